// The networks' own time against wall time (efficiency), from the one info line per embedding
// ("Successfully generated …"): its `timings` hold every stage of the image in its worker, and
// `network` the milliseconds inside onnxruntime runs (detectors and its share of the embedding
// run). Read from a library service's logger, or from a server's log file.
import { open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../src/logging/logger.js';
import { round } from './common.js';

/** Per-stage worker milliseconds summed over `faces` embeddings. */
export interface StageTotals {
  faces: number;
  ms: Record<string, number>;
}

const empty = (): StageTotals => ({ faces: 0, ms: {} });

function add(totals: StageTotals, line: string): void {
  if (!line.includes('"workerMs"')) return;
  const entry = JSON.parse(line) as { timings?: Record<string, number> };
  if (!entry.timings) return;
  totals.faces++;
  for (const [k, v] of Object.entries(entry.timings)) totals.ms[k] = (totals.ms[k] ?? 0) + v;
}

/** Several runs' totals as one. */
export function sumStages(runs: readonly StageTotals[]): StageTotals {
  const totals = empty();
  for (const run of runs) {
    totals.faces += run.faces;
    for (const [k, v] of Object.entries(run.ms)) totals.ms[k] = (totals.ms[k] ?? 0) + v;
  }
  return totals;
}

/** A logger for EmbeddingService whose embedding lines are summed; take() returns the sums since the last take(). */
export function stageLogger(): { logger: Logger; take(): StageTotals } {
  let totals = empty();
  let partial = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) add(totals, line);
      done();
    },
  });
  return {
    logger: pino({ level: 'info' }, sink),
    take() {
      const t = totals;
      totals = empty();
      return t;
    },
  };
}

/** The embedding lines a server wrote to its log file from byte `from` on; `end` is where the next read starts. */
export async function stagesInLog(file: string, from: number): Promise<StageTotals & { end: number }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const buf = Buffer.alloc(Math.max(0, size - from));
    await handle.read(buf, 0, buf.length, from);
    const text = buf.toString('utf8');
    const whole = text.slice(0, text.lastIndexOf('\n') + 1);
    const totals = empty();
    for (const line of whole.split('\n')) if (line.startsWith('{')) add(totals, line);
    return { ...totals, end: from + Buffer.byteLength(whole) };
  } finally {
    await handle.close();
  }
}

export interface Efficiency {
  /** The networks' own time over the lanes' wall time: sum of network ms / (workers x wall ms). */
  efficiency: number;
  /** Mean worker milliseconds per face by stage (decode, tightCrop, detect, align, infer, network). */
  stagesPerFace: Record<string, number>;
}

/** `wallMs` of `workers` lanes that produced `totals`. */
export function efficiencyOf(totals: StageTotals, workers: number, wallMs: number): Efficiency {
  const per = (v: number) => round(v / Math.max(1, totals.faces), 2);
  return {
    efficiency: round((totals.ms.network ?? 0) / (workers * wallMs), 3),
    stagesPerFace: Object.fromEntries(Object.entries(totals.ms).map(([k, v]) => [k, per(v)])),
  };
}
