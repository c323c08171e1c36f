// A proposed change measured in the same run: on a tight crop, run FaceMesh on the whole image
// first and skip BlazeFace when the mesh reports a face. FaceDetector has no public entry for
// that yet, so this reaches its mesh step directly; the worker does not use this path.
import { decodeImage, type RgbImage } from '../../src/image/decode.js';
import type { DetectedFace, Point } from '../../src/domain/face.js';
import type { FaceRegion } from '../../src/detect/blazeface-decode.js';
import { fivePoints, meshBox } from '../../src/detect/facemesh-decode.js';
import { cosineSimilarity, l2Normalize } from '../../src/domain/vector.js';
import { FaceDetector, alignFace, DEFAULT_DETECTOR_OPTIONS } from '../../src/inference/worker/face-detector.js';
import { WorkerRuntime } from '../../src/inference/worker/runtime.js';
import { toInputTensor } from '../../src/models/input-tensor.js';
import { loadConfig } from '../../src/config/config.js';
import { mean, median, quantile, round } from './common.js';

interface MeshStep {
  runMesh(image: RgbImage, regions: FaceRegion[]): Promise<{ region: FaceRegion; points: Point[]; score: number }[]>;
}

export interface MeshFirstResult {
  model: string;
  crops: number;
  /** Crops where the whole-image mesh found a face (score >= the detector's minMeshScore). */
  accepted: number;
  /** Mean CPU ms per crop: the detector as shipped, and the mesh alone on the whole crop. */
  detectCpuMs: number;
  meshOnlyCpuMs: number;
  /** Cosine between the embeddings of the two alignments of the same crop. */
  cosine: { min: number; p10: number; p50: number };
}

const largest = (faces: DetectedFace[]) =>
  faces.reduce<DetectedFace | undefined>(
    (b, f) => (!b || f.box[2] * f.box[3] > b.box[2] * b.box[3] ? f : b),
    undefined,
  );

async function cpuMs(fn: () => Promise<unknown>): Promise<number> {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

export async function meshFirst(modelsDir: string, model: string, crops: readonly string[]): Promise<MeshFirstResult> {
  const detector = await FaceDetector.load(modelsDir, 1);
  const mesh = detector as unknown as MeshStep;
  const rt = new WorkerRuntime({ modelsDir, preload: [], threads: 1, limits: loadConfig().image });
  const { spec, session } = await rt.load(model, () => {});
  const embed = async (image: RgbImage, face: DetectedFace) => {
    const input = toInputTensor(alignFace(image, face, spec.alignment, spec.input.size), spec.input);
    return l2Normalize((await session.run(input.data, input.dims)).data);
  };
  const wholeImage = (image: RgbImage): FaceRegion => ({
    center: [(image.width - 1) / 2, (image.height - 1) / 2],
    side: Math.max(image.width, image.height),
    score: 1,
    keypoints: [],
  });
  const images: RgbImage[] = [];
  for (const crop of crops) images.push((await decodeImage(crop, loadConfig().image, 1024)).image);
  for (const image of images.slice(0, 3)) {
    await detector.detect(image);
    await mesh.runMesh(image, [wholeImage(image)]);
  }
  const full: number[] = [];
  const fast: number[] = [];
  const cos: number[] = [];
  let accepted = 0;
  for (const image of images) {
    let faces: DetectedFace[] = [];
    full.push(
      await cpuMs(async () => {
        faces = await detector.detect(image);
      }),
    );
    let found: { points: Point[]; score: number } | undefined;
    fast.push(
      await cpuMs(async () => {
        [found] = await mesh.runMesh(image, [wholeImage(image)]);
      }),
    );
    const a = largest(faces);
    if (!found || found.score < DEFAULT_DETECTOR_OPTIONS.minMeshScore) continue;
    accepted++;
    if (!a) continue;
    const b: DetectedFace = {
      box: meshBox(found.points, image.width, image.height),
      score: found.score,
      landmarks: fivePoints(found.points),
    };
    cos.push(cosineSimilarity(await embed(image, a), await embed(image, b)));
  }
  await detector.release();
  return {
    model,
    crops: images.length,
    accepted,
    detectCpuMs: round(mean(full)),
    meshOnlyCpuMs: round(mean(fast)),
    cosine: { min: round(Math.min(...cos), 4), p10: round(quantile(cos, 0.1), 4), p50: round(median(cos), 4) },
  };
}
