// The 'faces' task: one photo decoded once, every face found on a pyramid of it, its box and five
// points refitted by FaceMesh on the full-resolution pixels, every chip aligned from those pixels
// and embedded. No face is an empty list.
import type { DetectedFace } from '../../domain/face.js';
import { DEFAULT_SCAN } from '../../detect/photo-scan.js';
import { rescaleFaces } from '../../detect/rescale.js';
import { decodeImage, type ImageLimits } from '../../image/decode.js';
import type { ModelSpec } from '../../models/registry.js';
import type { FacesOutput, FacesTask, PhotoFaceOutput } from '../protocol.js';
import { embedChips, wantsFlip } from './embed-chip.js';
import { cutChip, type FaceDetector } from './face-detector.js';
import type { PhotoDetector } from './photo-detector.js';
import type { OnnxSession } from './session.js';

export const DEFAULT_MAX_FACES = 1000;

export interface FacesDeps {
  detector: PhotoDetector;
  /** Refits each face's box and five points with FaceMesh (FaceDetector.refineFaces). */
  refiner: FaceDetector;
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
  // Full resolution even for detection alone: FaceMesh refits every face on these pixels.
  const { image, info } = await decodeImage(task.imagePath, deps.limits);
  lap('decode');
  const scan = await deps.detector.detect(image, { minFaceSize });
  Object.assign(timings, {
    pyramid: round(scan.timings.pyramid),
    detect: round(scan.timings.windows),
    merge: round(scan.timings.merge),
    windows: scan.timings.windowCount,
  });
  t = performance.now();
  // Refitted first: "the largest" is by the boxes returned.
  const refined = await deps.refiner.refineFaces(image, scan.faces);
  const found = refined.sort((a, b) => area(b) - area(a)).slice(0, maxFaces);
  lap('refine');
  const faces: PhotoFaceOutput[] = rescaleFaces(found, image, info);
  const model = deps.model;
  if (model) {
    const { spec } = model;
    const chips = found.map((face) => {
      const { pixels, toSource } = cutChip(image, face, spec.alignment, spec.input.size);
      return { pixels, flip: wantsFlip(task.flip ?? 'never', toSource) };
    });
    lap('align');
    const embeddings = await embedChips(model, chips);
    embeddings.forEach((e, i) => (faces[i]!.embedding = e));
    lap('embed');
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
