import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosineSimilarity } from '../../src/domain/vector.js';
import { ExactIndex } from '../../src/search/exact-index.js';
import { FLOAT16_SIMILARITY_BOUND } from '../../src/search/float16.js';
import { HnswIndex } from '../../src/search/hnsw-index.js';

/** Deterministic pseudo-random vectors (mulberry32), so a failure reproduces. */
export function randomVectors(n: number, d: number, seed = 1): Float32Array[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  return Array.from({ length: n }, () => Float32Array.from({ length: d }, rnd));
}

function bruteForce(vectors: Map<number, Float32Array>, q: Float32Array, k: number) {
  return [...vectors]
    .map(([key, v]) => ({ key, similarity: cosineSimilarity(v, q) }))
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k);
}

test('exact search equals brute force, through adds, replacements and removals', () => {
  const d = 16;
  const vs = randomVectors(3000, d, 7);
  const replacements = randomVectors(3000, d, 8);
  const index = new ExactIndex(d);
  const truth = new Map<number, Float32Array>();
  vs.forEach((v, i) => {
    index.add(i * 3 + 1, v);
    truth.set(i * 3 + 1, v);
  });
  // Replace some, remove others (including the last row and the first).
  for (let i = 0; i < 3000; i += 7) {
    index.add(i * 3 + 1, replacements[i]!);
    truth.set(i * 3 + 1, replacements[i]!);
  }
  for (const key of [1, 2999 * 3 + 1, ...Array.from({ length: 200 }, (_, i) => (i * 11 + 5) * 3 + 1)]) {
    assert.equal(index.remove(key), truth.delete(key));
  }
  assert.equal(index.remove(999_999), false);
  assert.equal(index.size(), truth.size);
  for (const q of randomVectors(20, d, 99)) {
    const got = index.search(q, 5);
    const want = bruteForce(truth, q, 5);
    assert.deepEqual(
      got.map((h) => h.key),
      want.map((h) => h.key),
    );
    got.forEach((h, i) => assert.ok(Math.abs(h.similarity - want[i]!.similarity) < 1e-5));
    const among = [...truth.keys()].filter((k) => k % 2 === 0);
    const sub = new Map(among.map((k) => [k, truth.get(k)!]));
    assert.deepEqual(
      index.searchAmong(q, 3, [...among, 123_456_789]).map((h) => h.key),
      bruteForce(sub, q, 3).map((h) => h.key),
    );
  }
  assert.deepEqual(new ExactIndex(d).search(vs[0]!, 3), []);
  assert.throws(() => index.add(5, new Float32Array(3)), RangeError);
});

test('labels follow their keys through adds, relabels and removals that move rows', () => {
  const index = new ExactIndex(4);
  const truth = new Map<number, number>();
  const vs = randomVectors(1, 4, 3);
  let s = 7;
  const next = (n: number) => (s = (s * 48271) % 2147483647) % n;
  for (let i = 0; i < 5000; i++) {
    const key = next(400);
    if (next(3) === 0) assert.equal(index.remove(key), truth.delete(key));
    else {
      const label = next(60);
      index.add(key, vs[0]!, label);
      truth.set(key, label);
    }
  }
  assert.equal(index.size(), truth.size);
  const labels = new Set(truth.values());
  assert.equal(index.labelCount(), labels.size);
  for (const label of [...labels, 999]) {
    const want = [...truth].filter(([, l]) => l === label).map(([k]) => k);
    assert.deepEqual(index.keysOf(label).sort(), want.sort());
  }
  for (const [key, label] of truth) assert.equal(index.labelOf(key), label);
  assert.equal(index.labelOf(12_345), undefined);
});

test('a float16 store answers the float32 top 1, its scores within the stated bound, through changes', () => {
  const d = 128;
  const vs = randomVectors(5000, d, 31);
  const f32 = new ExactIndex(d);
  const f16 = new ExactIndex(d, 'f16');
  vs.forEach((v, i) => {
    f32.add(i + 1, v);
    f16.add(i + 1, v);
  });
  for (const key of [1, 5000, 2500]) assert.equal(f16.remove(key) && f32.remove(key), true);
  const converted = new ExactIndex(d);
  for (const { keys } of f32.allRows(1000)) for (const key of keys) converted.add(key, f32.vector(key)!);
  converted.toFloat16();
  assert.equal(converted.precision, 'f16');
  let worst = 0;
  for (const q of randomVectors(200, d, 32)) {
    const want = f32.search(q, 10);
    for (const store of [f16, converted]) {
      const got = store.search(q, 10);
      assert.equal(got[0]!.key, want[0]!.key);
      const rescored = store.rescore(
        q,
        want.map((h) => h.key),
      );
      for (const h of want)
        worst = Math.max(worst, Math.abs(rescored.find((r) => r.key === h.key)!.similarity - h.similarity));
      assert.equal(store.searchAmong(q, 1, [want[0]!.key, want[1]!.key])[0]!.key, want[0]!.key);
    }
  }
  assert.ok(worst <= FLOAT16_SIMILARITY_BOUND, `max score error ${worst}`);
  assert.ok(worst > 1e-6, 'the scores are float16 ones');
  assert.equal(f16.memoryBytes() < f32.memoryBytes() * 0.6, true);
  const v = f16.vector(2)!;
  assert.ok(Math.abs(v.reduce((s, x) => s + x * x, 0) - 1) < 2e-3, 'rows are decoded unit vectors');
});

test('HNSW finds the exact nearest neighbour for almost every query and forgets removed keys', () => {
  const d = 32;
  const vs = randomVectors(2000, d, 3);
  const exact = new ExactIndex(d);
  const hnsw = new HnswIndex(d, { quantization: 'f32' });
  vs.forEach((v, i) => {
    exact.add(i + 1, v);
    hnsw.add(i + 1, v);
  });
  let agree = 0;
  const queries = randomVectors(100, d, 5);
  for (const q of queries) if (hnsw.search(q, 1)[0]?.key === exact.search(q, 1)[0]?.key) agree++;
  assert.ok(agree >= 95, `recall@1 ${agree}/100`);
  const top = exact.search(queries[0]!, 1)[0]!;
  assert.equal(hnsw.remove(top.key), true);
  assert.ok(!hnsw.search(queries[0]!, 10).some((h) => h.key === top.key));
  assert.equal(hnsw.size(), 1999);
  assert.ok(hnsw.memoryBytes() > 1999 * d);
});
