import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FifoQueue } from '../../../src/inference/pool/task-queue.js';

test('FifoQueue: first in, first out; unshift jumps the line; remove and drain', () => {
  const q = new FifoQueue<string>();
  for (const item of ['a', 'b', 'c']) q.push(item);
  q.unshift('retry');
  assert.equal(q.size, 4);
  assert.equal(q.shift(), 'retry');
  assert.equal(q.remove('b'), true);
  assert.equal(q.remove('b'), false, 'removing twice is a no-op');
  assert.equal(q.shift(), 'a');
  q.push('d');
  assert.deepEqual(q.drain(), ['c', 'd']);
  assert.equal(q.size, 0);
  assert.equal(q.shift(), undefined);
});
