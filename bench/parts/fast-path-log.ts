// Which images took the tight-crop fast path, read from the worker's own debug step lines (the
// path is reported there, not in the result): a logger for EmbeddingService that keeps, per
// pool job, the image ("Image: …") and the verdict line (fields tightCrop and meshPasses).
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../src/logging/logger.js';

export interface FastPathVerdict {
  tight: boolean;
  /** The step line, e.g. "Tight crop (face 0.52 x 0.63 of the image): …". */
  message: string;
  meshPasses: number;
}

export interface FastPathLog {
  logger: Logger;
  /** Verdicts by image path since the last clear() (the last one when an image was embedded more than once). */
  verdicts(): Map<string, FastPathVerdict>;
  clear(): void;
}

export function fastPathLog(): FastPathLog {
  const imageOf = new Map<number, string>();
  const verdictOf = new Map<number, FastPathVerdict>();
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"jobId"')) continue;
        const entry = JSON.parse(line) as { jobId?: number; msg?: string; tightCrop?: boolean; meshPasses?: number };
        if (entry.jobId === undefined || typeof entry.msg !== 'string') continue;
        if (entry.msg.startsWith('Image: ')) imageOf.set(entry.jobId, entry.msg.slice('Image: '.length));
        if (typeof entry.tightCrop === 'boolean')
          verdictOf.set(entry.jobId, { tight: entry.tightCrop, message: entry.msg, meshPasses: entry.meshPasses ?? 1 });
      }
      done();
    },
  });
  return {
    // The sink parses each line as it is written (done() at once), before the embedding settles.
    logger: pino({ level: 'debug' }, sink),
    clear() {
      imageOf.clear();
      verdictOf.clear();
    },
    verdicts() {
      const out = new Map<string, FastPathVerdict>();
      for (const [job, verdict] of verdictOf) {
        const image = imageOf.get(job);
        if (image) out.set(image, verdict);
      }
      return out;
    },
  };
}
