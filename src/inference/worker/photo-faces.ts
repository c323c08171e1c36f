// The 'faces' task: one photo decoded once, every face found on a pyramid of it, every chip
// aligned from the decoded full-resolution pixels and embedded. No face is an empty list.
import type { DetectedFace } from '../../domain/face.js';
import { DEFAULT_SCAN, planScan } from '../../detect/photo-scan.js';
import { rescaleFaces } from '../../detect/rescale.js';
import { decodeImage, probeImage, type ImageLimits } from '../../image/decode.js';
import type { ModelSpec } from '../../models/registry.js';
import type { FacesOutput, FacesTask, PhotoFaceOutput } from '../protocol.js';
import { warpRgb } from '../../detect/resample.js';
import { embedChip, wantsFlip } from './embed-chip.js';
import { chipWarp } from './face-detector.js';
import type { PhotoDetector } from './photo-detector.js';
import type { OnnxSession } from './session.js';

export const DEFAULT_MAX_FACES = 1000;

export interface FacesDeps {
  detector: PhotoDetector;
  limits: ImageLimits;
  /** The embedding model, when the task names one. */
  model?: { spec: ModelSpec; version: string; session: OnnxSession; name: string };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
const area = (f: DetectedFace) => f.box[2] * f.box[3];

export async function photoFaces(task: FacesTask, deps: FacesDeps): Promise<FacesOutput> {
  const started = performance.now();
  const timings: Record<string, number> = {};
  let t = started;
  const lap = (stage: string) => {
    const now = performance.now();
    timings[stage] = round(now - t);
    t = now;
  };
  const minFaceSize = task.minFaceSize ?? DEFAULT_SCAN.minFaceSize;
  const maxFaces = task.maxFaces ?? DEFAULT_MAX_FACES;
  const info = await probeImage(task.imagePath, deps.limits);
  // Chips are cut from full-resolution pixels; detection alone needs only the finest level.
  const finest = planScan(info.width, info.height, { ...DEFAULT_SCAN, minFaceSize })[0]!;
  const maxSide = deps.model ? undefined : Math.max(finest.width, finest.height);
  const { image } = await decodeImage(task.imagePath, deps.limits, maxSide);
  lap('decode');
  const scan = await deps.detector.detect(image, { minFaceSize: (minFaceSize * image.width) / info.width });
  Object.assign(timings, {
    pyramid: round(scan.timings.pyramid),
    detect: round(scan.timings.windows),
    merge: round(scan.timings.merge),
    windows: scan.timings.windowCount,
  });
  t = performance.now();
  const found = [...scan.faces].sort((a, b) => area(b) - area(a)).slice(0, maxFaces);
  const faces: PhotoFaceOutput[] = rescaleFaces(found, image, info);
  const model = deps.model;
  if (model) {
    let align = 0;
    let embed = 0;
    for (let i = 0; i < found.length; i++) {
      const a = performance.now();
      const toSource = chipWarp(found[i]!, model.spec.alignment, model.spec.input.size);
      const chip = warpRgb(image, toSource, model.spec.input.size);
      const b = performance.now();
      faces[i]!.embedding = await embedChip(model, chip, wantsFlip(task.flip ?? 'never', toSource));
      align += b - a;
      embed += performance.now() - b;
    }
    timings.align = round(align);
    timings.embed = round(embed);
  }
  return {
    kind: 'faces',
    width: info.width,
    height: info.height,
    ...(model ? { model: model.name, modelVersion: model.version, dimensions: model.spec.dimensions } : {}),
    faces,
    durationMs: round(performance.now() - started),
    timings,
  };
}
