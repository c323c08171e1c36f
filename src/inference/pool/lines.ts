// A child's output as lines: the one place that splits a stream on newlines (the pool's workers
// and the per-request mode's fresh processes both log their children's stderr line by line).
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export function onLines(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}
