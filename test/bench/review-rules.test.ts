import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byPolicy, chooseRule, flagScore, type ReviewCase } from '../../bench/parts/review-rules.js';

const match = (correct: boolean, similarity: number, widthPx = 80, sharpness = 200): ReviewCase => ({
  correct,
  similarity,
  threshold: 0.5,
  quality: { widthPx, sharpness, yaw: 0, roll: 0 },
  flagged: false,
});

test('flagScore: rate, precision and recall of a flag over right and wrong matches', () => {
  const cases = [match(true, 0.9), match(true, 0.51), match(false, 0.52), match(false, 0.8), match(true, 0.7)];
  const s = flagScore(cases, (c) => c.similarity < 0.6);
  assert.deepEqual(
    {
      matches: s.matches,
      wrong: s.wrong,
      flagged: s.flagged,
      wrongFlagged: s.wrongFlagged,
      rightFlagged: s.rightFlagged,
    },
    { matches: 5, wrong: 2, flagged: 2, wrongFlagged: 1, rightFlagged: 1 },
  );
  assert.equal(s.rate, 0.4);
  assert.equal(s.precision, 0.5);
  assert.equal(s.recall, 0.5);
  const none = flagScore([match(true, 0.9)], () => false);
  assert.ok(Number.isNaN(none.precision) && Number.isNaN(none.recall));
  assert.equal(none.rate, 0);
});

test('byPolicy applies the product rule: margin above the threshold, then the width and sharpness floors', () => {
  const p = { margin: 0.02, minWidthPx: 36, minSharpness: 50 };
  assert.equal(byPolicy(p)(match(true, 0.515)), true);
  assert.equal(byPolicy(p)(match(true, 0.6)), false);
  assert.equal(byPolicy(p)(match(true, 0.6, 30)), true);
  assert.equal(byPolicy(p)(match(true, 0.6, 80, 40)), true);
});

test('chooseRule: most wrong matches caught within the budget in every group, then fewest right flagged', () => {
  const small = [
    match(true, 0.9, 30),
    match(true, 0.9, 40),
    match(false, 0.51, 45),
    ...Array(17).fill(match(true, 0.8, 45)),
  ];
  const large = [match(true, 0.505, 90), ...Array(19).fill(match(true, 0.9, 90))];
  const rules = [
    { margin: 0, minWidthPx: 0, minSharpness: 0 },
    { margin: 0, minWidthPx: 36, minSharpness: 0 }, // 1 right flagged in small, nothing wrong
    { margin: 0.02, minWidthPx: 0, minSharpness: 0 }, // the wrong one, and 1 right in large
    { margin: 0.02, minWidthPx: 42, minSharpness: 0 }, // everything in small: over the budget
  ];
  assert.deepEqual(chooseRule([small, large], rules, 0.1), rules[2]);
  // With no wrong match to catch, the rule that flags the fewest right ones (the first such).
  assert.deepEqual(chooseRule([large], rules, 0.1), rules[0]);
  assert.equal(chooseRule([small], [rules[3]!], 0.1), undefined);
});
