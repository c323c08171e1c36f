// The old worker's result file (README "Command line"), also the CLI's JSON line and what the
// per-request mode reads back from its fresh process.
import { deserializeError, type SerializedError } from '../errors.js';
import type { Box, FaceInfo, Point } from '../domain/face.js';
import type { EmbedOutput } from './protocol.js';

export type ResultFile =
  | {
      success: true;
      model: string;
      model_version: string;
      dimensions: number;
      embedding: number[];
      duration_ms: number;
      face: ResultFace;
    }
  | { success: false; error: SerializedError };

/** The face as the result file and the CLI's JSON line spell it (snake_case counts). */
export interface ResultFace {
  detected: boolean;
  score?: number;
  box?: Box;
  landmarks?: Point[];
  faces_seen?: number;
  face_index?: number;
}

function toResultFace({ facesSeen, faceIndex, ...face }: FaceInfo): ResultFace {
  return {
    ...face,
    ...(facesSeen !== undefined && { faces_seen: facesSeen }),
    ...(faceIndex !== undefined && { face_index: faceIndex }),
  };
}

function fromResultFace({ faces_seen, face_index, ...face }: ResultFace): FaceInfo {
  return {
    ...face,
    ...(faces_seen !== undefined && { facesSeen: faces_seen }),
    ...(face_index !== undefined && { faceIndex: face_index }),
  };
}

export function toResultFile(output: EmbedOutput): ResultFile {
  return {
    success: true,
    model: output.model,
    model_version: output.modelVersion,
    dimensions: output.dimensions,
    embedding: Array.from(output.embedding),
    duration_ms: output.durationMs,
    face: toResultFace(output.face),
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
    face: fromResultFace(result.face),
    durationMs: result.duration_ms,
    timings: {},
  };
}
