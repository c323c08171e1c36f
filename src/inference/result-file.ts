// The old worker's result file (docs/cli.md), also the CLI's JSON line and what the
// per-request mode reads back from its fresh process.
import { deserializeError, type SerializedError } from '../errors.js';
import type { EmbedOutput } from './protocol.js';

export type ResultFile =
  | {
      success: true;
      model: string;
      model_version: string;
      dimensions: number;
      embedding: number[];
      duration_ms: number;
      face: EmbedOutput['face'];
    }
  | { success: false; error: SerializedError };

export function toResultFile(output: EmbedOutput): ResultFile {
  return {
    success: true,
    model: output.model,
    model_version: output.modelVersion,
    dimensions: output.dimensions,
    embedding: Array.from(output.embedding),
    duration_ms: output.durationMs,
    face: output.face,
  };
}

/** The result as an EmbedOutput (per-stage timings are not in the file); a failure rejects typed. */
export function fromResultFile(result: ResultFile): EmbedOutput {
  if (!result.success) throw deserializeError(result.error);
  return {
    kind: 'embed',
    embedding: Float32Array.from(result.embedding),
    model: result.model,
    modelVersion: result.model_version,
    dimensions: result.dimensions,
    face: result.face,
    durationMs: result.duration_ms,
    timings: {},
  };
}
