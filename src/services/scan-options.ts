// The whole-photo scan options as a task carries them, checked before any worker is involved.
import { ValueError } from '../errors.js';
import type { FacesTask } from '../inference/protocol.js';
import type { FaceScanOptions } from './embedding.types.js';

/** Checked here, before a worker is involved: ValueError for a size or count that cannot be meant. */
export function scanOptions(opts: FaceScanOptions): Pick<FacesTask, 'minFaceSize' | 'maxFaces'> {
  const { minFaceSize, maxFaces } = opts;
  if (minFaceSize !== undefined && !(Number.isFinite(minFaceSize) && minFaceSize >= 8))
    throw new ValueError(`minFaceSize must be a number >= 8 (pixels), got ${String(minFaceSize)}`);
  if (maxFaces !== undefined && !(Number.isInteger(maxFaces) && maxFaces >= 1))
    throw new ValueError(`maxFaces must be a positive integer, got ${String(maxFaces)}`);
  return { ...(minFaceSize !== undefined ? { minFaceSize } : {}), ...(maxFaces !== undefined ? { maxFaces } : {}) };
}
