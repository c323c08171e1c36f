// The 'faces' task: one photo decoded once, every face found on a pyramid of it, its box and five
// points refitted by FaceMesh on the full-resolution pixels, every chip aligned from those pixels
// and embedded. No face is an empty list. Also the two tasks of a photo split over the workers
// (services/split-photo.ts): one share of its windows, and the refit of given faces.
import type { DetectedFace } from '../../domain/face.js';
import { DEFAULT_SCAN, clipToPhoto, largestFirst, mergedIndices } from '../../detect/photo-scan.js';
import { rescaleFaces } from '../../detect/rescale.js';
import { decodeImage, type ImageLimits } from '../../image/decode.js';
import type { ModelSpec } from '../../models/registry.js';
import {
  DEFAULT_MAX_FACES,
  type FacesOutput,
  type FacesTask,
  type PhotoFaceOutput,
  type RefitOutput,
  type RefitTask,
  type ScanPartOutput,
  type ScanPartTask,
} from '../protocol.js';
import { embedChips, wantsFlip } from './embed-chip.js';
import { cutChip, type FaceDetector } from './face-detector.js';
import type { PhotoDetector } from './photo-detector.js';
import { networkMs, type OnnxSession } from './session.js';

export interface FacesDeps {
  detector: PhotoDetector;
  /** Refits each face's box and five points with FaceMesh (FaceDetector.refineFaces). */
  refiner: FaceDetector;
  limits: ImageLimits;
  /** The embedding model, when the task names one. */
  model?: { spec: ModelSpec; version: string; session: OnnxSession; name: string };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export async function photoFaces(task: FacesTask, deps: FacesDeps): Promise<FacesOutput> {
  const started = performance.now();
  const network = networkMs();
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
  const found = largestFirst(await deps.refiner.refineFaces(image, scan.faces), maxFaces);
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
  Object.assign(timings, { network: round(networkMs() - network), workers: 1 });
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

/**
 * One share of the photo's windows (ScanPartTask): their unmerged faces, and refitted those this
 * share's own merge keeps. The merge of every share keeps no other face but in rare cases (a face
 * this share dropped for one another share's face outranks); the caller has those refitted (RefitTask).
 */
export async function scanPart(
  task: ScanPartTask,
  deps: Pick<FacesDeps, 'detector' | 'refiner' | 'limits'>,
): Promise<ScanPartOutput> {
  const started = performance.now();
  const network = networkMs();
  const { image, info } = await decodeImage(task.imagePath, deps.limits);
  const decode = performance.now() - started;
  const minFaceSize = task.minFaceSize ?? DEFAULT_SCAN.minFaceSize;
  const scan = await deps.detector.scan(image, { minFaceSize }, { index: task.part, of: task.parts });
  const t = performance.now();
  const kept = mergedIndices(scan.candidates);
  const faces = await deps.refiner.refitEach(
    image,
    kept.map((i) => clipToPhoto(scan.candidates[i]!, image)),
  );
  const refitted: (DetectedFace | null)[] = scan.candidates.map(() => null);
  kept.forEach((i, k) => (refitted[i] = faces[k]!));
  return {
    kind: 'scanPart',
    width: info.width,
    height: info.height,
    candidates: scan.candidates,
    windowOf: scan.windowOf,
    refitted,
    durationMs: round(performance.now() - started),
    timings: {
      decode: round(decode),
      pyramid: round(scan.timings.pyramid),
      detect: round(scan.timings.windows),
      windows: scan.timings.windowCount,
      refine: round(performance.now() - t),
      network: round(networkMs() - network),
    },
  };
}

/** The given faces refitted by FaceMesh on the photo's full-resolution pixels (RefitTask). */
export async function refitFaces(task: RefitTask, deps: Pick<FacesDeps, 'refiner' | 'limits'>): Promise<RefitOutput> {
  const started = performance.now();
  const network = networkMs();
  const { image } = await decodeImage(task.imagePath, deps.limits);
  const faces = await deps.refiner.refitEach(image, task.faces);
  return {
    kind: 'refit',
    faces,
    durationMs: round(performance.now() - started),
    timings: { network: round(networkMs() - network) },
  };
}
