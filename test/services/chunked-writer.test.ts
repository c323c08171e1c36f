import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkedWriter } from '../../src/services/chunked-writer.js';

/** A writer whose writes are recorded; `next()` resolves with the next chunk written. */
function recording(opts: { maxRows: number; maxDelayMs: number }, fail?: (rows: number[]) => boolean) {
  const chunks: number[][] = [];
  let waiter: ((rows: number[]) => void) | undefined;
  const writer = new ChunkedWriter<number>(async (rows) => {
    chunks.push(rows);
    waiter?.(rows);
    waiter = undefined;
    if (fail?.(rows)) throw new Error(`write of ${rows.join(',')} failed`);
  }, opts);
  const next = () => new Promise<number[]>((resolve) => (waiter = resolve));
  return { writer, chunks, next };
}

test('a full chunk is written at once, the rest on close', async () => {
  const { writer, chunks } = recording({ maxRows: 3, maxDelayMs: 60_000 });
  for (const n of [1, 2, 3, 4, 5, 6, 7]) await writer.add(n);
  assert.deepEqual(chunks, [
    [1, 2, 3],
    [4, 5, 6],
  ]);
  await writer.close();
  assert.deepEqual(chunks.at(-1), [7]);
});

test('rows waiting longer than maxDelayMs are written without waiting for a full chunk', async () => {
  const { writer, chunks, next } = recording({ maxRows: 100, maxDelayMs: 20 });
  const written = next();
  const started = performance.now();
  await writer.add(1);
  await writer.add(2);
  assert.deepEqual(chunks, [], 'not yet: the chunk is not full');
  assert.deepEqual(await written, [1, 2]);
  assert.ok(performance.now() - started >= 15, 'written by the timer');
  await writer.close();
  assert.equal(chunks.length, 1, 'nothing left for close');
});

test('close rejects with a failed timed write, so the batch does not report rows as stored', async () => {
  const { writer, next } = recording({ maxRows: 100, maxDelayMs: 10 }, (rows) => rows.includes(2));
  const written = next();
  await writer.add(2);
  await written;
  await assert.rejects(writer.close(), /write of 2 failed/);
});
