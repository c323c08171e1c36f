// Which images took the tight-crop fast path, read from the worker's own debug step lines (the
// path is reported there, not in the result): a logger for EmbeddingService that keeps each
// verdict line (fields tightCrop, meshPasses and imagePath: a batched task holds several images).
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
  const verdictOf = new Map<string, FastPathVerdict>();
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"tightCrop"')) continue;
        const entry = JSON.parse(line) as {
          msg?: string;
          tightCrop?: boolean;
          meshPasses?: number;
          imagePath?: string;
        };
        if (typeof entry.tightCrop !== 'boolean' || !entry.imagePath || typeof entry.msg !== 'string') continue;
        verdictOf.set(entry.imagePath, {
          tight: entry.tightCrop,
          message: entry.msg,
          meshPasses: entry.meshPasses ?? 1,
        });
      }
      done();
    },
  });
  return {
    // The sink parses each line as it is written (done() at once), before the embedding settles.
    logger: pino({ level: 'debug' }, sink),
    clear() {
      verdictOf.clear();
    },
    verdicts() {
      return new Map(verdictOf);
    },
  };
}
