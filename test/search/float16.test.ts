import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FLOAT16_VALUES, toFloat16Bits } from '../../src/search/float16.js';
import { randomVectors } from './exact-index.test.js';

const native = globalThis as { Float16Array?: Float32ArrayConstructor };

test('every half survives decoding and re-encoding, and the encoder rounds to nearest, ties to even', () => {
  for (let h = 0; h < 0x10000; h++) {
    const x = FLOAT16_VALUES[h]!;
    if (Number.isNaN(x)) assert.equal(toFloat16Bits(x) & 0x7c00, 0x7c00);
    else assert.equal(toFloat16Bits(x), h, `bits ${h.toString(16)}`);
  }
  assert.equal(FLOAT16_VALUES[toFloat16Bits(1 + 2 ** -11)], 1, 'a tie goes to the even mantissa');
  assert.equal(FLOAT16_VALUES[toFloat16Bits(1 + 3 * 2 ** -11)], 1 + 2 ** -9, 'and up when that one is even');
  assert.equal(FLOAT16_VALUES[toFloat16Bits(1e6)], Infinity);
  assert.equal(FLOAT16_VALUES[toFloat16Bits(2 ** -26)], 0);
  assert.equal(FLOAT16_VALUES[toFloat16Bits(-(2 ** -24))], -(2 ** -24));
});

test(
  'the encoder agrees with the platform float16 (Node 24)',
  { skip: !native.Float16Array && 'no Float16Array' },
  () => {
    const half = new native.Float16Array!(1);
    const bits = new Uint16Array(half.buffer);
    const values = randomVectors(200, 1000, 5).flatMap((v) => [...v.map((x) => x * 2 ** ((x * 1e4) % 30))]);
    for (const x of [...values, 65504, 65520, 2 ** -14, 2 ** -24 * 1.5, 2 ** -25, 0.1, -0.3]) {
      const f = Math.fround(x);
      half[0] = f;
      assert.equal(toFloat16Bits(f), bits[0], `${f}`);
    }
  },
);
