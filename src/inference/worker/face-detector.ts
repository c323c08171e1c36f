// Face detection for the worker: BlazeFace finds face regions, FaceMesh places 468 points in
// each, and five of them (eye centres, nose tip, mouth corners) align the face for a model. A
// tight crop needs no BlazeFace: FaceMesh on the whole image finds its face (tightCrop).
// Both networks are Human's TFJS graphs converted to ONNX (NHWC in, TFJS output names).
import type { DetectedFace, Point } from '../../domain/face.js';
import { InternalError, ValueError } from '../../errors.js';
import { boxWarp, landmarkBox, templateWarp, type Affine } from '../../detect/alignment.js';
import { chipToImage, dlibFaceChipDetails } from '../../detect/dlib-chip.js';
import { extractDlibChip } from '../../detect/dlib-resample.js';
import { placeInto, resizeAreaInto, warpInto, warpRgb, type RgbPixels } from '../../detect/resample.js';
import {
  BLAZEFACE_SIZE,
  decodeBlazeface,
  generateAnchors,
  letterbox,
  nonMaxSuppression,
  type FaceRegion,
} from '../../detect/blazeface-decode.js';
import {
  MESH_POINTS,
  MESH_SIZE,
  fivePoints,
  mapMesh,
  meshBox,
  meshCropSampling,
  meshCropTransform,
  regionFromBox,
  regionFromMesh,
} from '../../detect/facemesh-decode.js';
import { dropRefitDuplicates } from '../../detect/photo-scan.js';
import { confirmTightCrop, judgeTightCrop, letterboxPlacement } from '../../detect/tight-crop.js';
import { resizeRgb, type RgbImage } from '../../image/decode.js';
import { prepareSource } from '../../models/prepare.js';
import type { Alignment } from '../../models/registry.js';
import { OnnxSession } from './session.js';

export interface FaceDetectorOptions {
  /** BlazeFace score (after the sigmoid) a region needs. Human's default is 0.2. */
  minScore: number;
  /** FaceMesh face-presence score a region needs to be kept. */
  minMeshScore: number;
  /** Overlap above which the weaker of two regions is dropped. Human uses 0.1. */
  iouThreshold: number;
  maxFaces: number;
  /** Run FaceMesh a second time on a crop centred and levelled by the first mesh. */
  refine: boolean;
}

// On the shared photos 0.3 / 0.5 gave exactly one face in every single-face photo and the five
// faces face-api finds in the crowd selfie; Human's 0.2 / 0.2 added an edge false positive.
export const DEFAULT_DETECTOR_OPTIONS: Readonly<FaceDetectorOptions> = Object.freeze({
  minScore: 0.3,
  minMeshScore: 0.5,
  iouThreshold: 0.3,
  maxFaces: 50,
  // A second pass moved the five points 3% closer to face-api's (of the eye distance) for ~2.5 ms a face.
  refine: false,
});

/** What tightCrop found: the face when the image is a tight crop, and why (for the step log). */
export interface TightCrop {
  face?: DetectedFace;
  reason: string;
  /** FaceMesh runs spent on the decision (1 or 2). */
  passes: number;
}

/**
 * Side of the FaceMesh crop over a RetinaFace box's longer side (refineFaces). On 30 deepface-unit
 * photos, against the crop path's BlazeFace + FaceMesh points (median drift in eye distances, box
 * IoU): 1.0: 0.018, 0.90; 1.1: 0.016, 0.95; 1.2: 0.013, 0.97; 1.4: 0.017, 0.93; 1.6: 0.035, 0.86;
 * 2.0: 0.121, 0.72. RetinaFace's own five points: 0.056, its box 0.82.
 */
export const REFINE_SIDE = 1.2;
/** Faces per FaceMesh run when refining: bounds the input tensor (16 x 192 x 192 x 3 floats, 7 MB). */
const REFINE_BATCH = 16;

export interface DetectorVersions {
  blazeface: string;
  facemesh: string;
}

export class FaceDetector {
  private readonly anchors = generateAnchors(BLAZEFACE_SIZE);

  private constructor(
    private readonly blazeface: OnnxSession,
    private readonly facemesh: OnnxSession,
    readonly versions: DetectorVersions,
    private readonly options: FaceDetectorOptions,
  ) {}

  /** Prepares (first use only) and loads both networks; the inputs are checked now, not on the first photo. */
  static async load(
    modelsDir: string,
    threads: number,
    options: Partial<FaceDetectorOptions> = {},
  ): Promise<FaceDetector> {
    const detector = await prepareSource('blazeface', modelsDir);
    const mesh = await prepareSource('facemesh', modelsDir);
    // The two sessions run back to back: with onnxruntime's default spin the idle threads of one
    // starve the other (blazeface 4.2 -> 8.4 ms, facemesh 2.9 -> 7.0 ms measured); 300 us keeps
    // the spin within one run.
    const session = { threads, spinMicros: 300 };
    const blazeface = await OnnxSession.load(detector.path, session, {});
    const facemesh = await OnnxSession.load(mesh.path, session, {});
    const shapes = [blazeface.inputShape(), facemesh.inputShape()];
    const expected = [BLAZEFACE_SIZE, MESH_SIZE];
    shapes.forEach((dims, i) => {
      if (dims && (dims[1] !== expected[i] || dims[2] !== expected[i] || dims[3] !== 3)) {
        throw new InternalError(
          `Detector network ${i ? 'facemesh' : 'blazeface'} takes [${dims.join(',')}], expected NHWC ${expected[i]}x${expected[i]}x3`,
        );
      }
    });
    return new FaceDetector(
      blazeface,
      facemesh,
      { blazeface: detector.version, facemesh: mesh.version },
      { ...DEFAULT_DETECTOR_OPTIONS, ...options },
    );
  }

  /** Faces in `image`, most confident first; coordinates in the image's pixels (pixel centres at integers). */
  async detect(image: RgbImage): Promise<DetectedFace[]> {
    const regions = await this.findRegions(image);
    if (regions.length === 0) return [];
    let meshes = await this.runMesh(image, regions);
    if (this.options.refine) {
      const kept = meshes.filter((m) => m.score >= this.options.minMeshScore);
      meshes = kept.length
        ? await this.runMesh(
            image,
            kept.map((m) => regionFromMesh(m.points, m.region)),
          )
        : [];
    }
    const faces = meshes
      .filter((m) => m.score >= this.options.minMeshScore)
      .map((m) => {
        const box = meshBox(m.points, image.width, image.height);
        return {
          box,
          score: m.region.score,
          landmarks: fivePoints(m.points),
          rect: [box[0], box[1], box[0] + box[2], box[1] + box[3]],
        };
      });
    // Two detector regions on one face give two meshes on it: keep the more confident.
    return nonMaxSuppression(faces, 0.5, this.options.maxFaces).map(({ box, score, landmarks }) => ({
      box,
      score,
      landmarks,
    }));
  }

  /**
   * Faces found by another detector (the whole-photo scan) given FaceMesh's box and five points,
   * fitted on `image` itself (full resolution), so they do not depend on the pyramid level that
   * found the face. A face whose mesh is not confident keeps its own box and landmarks.
   */
  async refineFaces(image: RgbImage, faces: readonly DetectedFace[]): Promise<DetectedFace[]> {
    return dropRefitDuplicates(await this.refitEach(image, faces));
  }

  /** refineFaces without dropping duplicates: one refitted face per given face, in order. */
  async refitEach(image: RgbImage, faces: readonly DetectedFace[]): Promise<DetectedFace[]> {
    const out: DetectedFace[] = [];
    for (let i = 0; i < faces.length; i += REFINE_BATCH) {
      const part = faces.slice(i, i + REFINE_BATCH);
      const meshes = await this.runMesh(
        image,
        part.map((f) => regionFromBox(f, REFINE_SIDE)),
      );
      meshes.forEach((m, j) => {
        const { score } = part[j]!;
        out.push(
          m.score >= this.options.minMeshScore
            ? { box: meshBox(m.points, image.width, image.height), score, landmarks: fivePoints(m.points) }
            : part[j]!,
        );
      });
    }
    return out;
  }

  private async findRegions(image: RgbImage): Promise<FaceRegion[]> {
    const { toSource, toImage } = letterbox(image.width, image.height, BLAZEFACE_SIZE);
    const input = new Float32Array(BLAZEFACE_SIZE * BLAZEFACE_SIZE * 3);
    // Human's normalisation: pixel / 127.5 - 1. Shrinking more than 3x (a photo over 768 px) is
    // area-averaged, as bilinear sampling would alias; up to 3x bilinear (Human's way) found the
    // same faces and landmarks on the shared photos at 640 px, in a third of the time.
    const norm = { scale: 1 / 127.5, offset: -1 };
    if (toSource[0] > 3) resizeAreaInto(image, toSource, BLAZEFACE_SIZE, BLAZEFACE_SIZE, input, norm);
    else warpInto(image, toSource, BLAZEFACE_SIZE, BLAZEFACE_SIZE, input, norm);
    const outputs = await this.blazeface.runAll(input, [1, BLAZEFACE_SIZE, BLAZEFACE_SIZE, 3]);
    return decodeBlazeface(Object.values(outputs), this.anchors, toImage, this.options);
  }

  /** One batched FaceMesh run over every region: 468 image points and a face-presence score each. */
  private async runMesh(
    image: RgbImage,
    regions: FaceRegion[],
  ): Promise<{ region: FaceRegion; points: Point[]; score: number }[]> {
    const px = MESH_SIZE * MESH_SIZE * 3;
    const input = new Float32Array(px * regions.length);
    const crops = regions.map((region, i) => {
      const toImage = meshCropTransform(region);
      // Human crops bilinearly at any scale. Extra taps against aliasing only past 3x: below that
      // they changed no landmark on the shared photos and tripled the cost.
      const shrink = region.side / MESH_SIZE;
      const taps = shrink >= 3 ? Math.min(3, Math.floor(shrink)) : 1;
      // Human feeds the mesh model pixel / 255.
      warpInto(image, meshCropSampling(toImage), MESH_SIZE, MESH_SIZE, input.subarray(i * px, (i + 1) * px), {
        taps,
        scale: 1 / 255,
      });
      return toImage;
    });
    const meshes = await this.meshOn(input, crops);
    return regions.map((region, i) => ({ region, ...meshes[i]! }));
  }

  /** FaceMesh over prepared inputs (one per map): points mapped to the image by each input's map. */
  private async meshOn(input: Float32Array, toImage: readonly Affine[]): Promise<{ points: Point[]; score: number }[]> {
    const outputs = Object.values(await this.facemesh.runAll(input, [toImage.length, MESH_SIZE, MESH_SIZE, 3]));
    const meshOut = outputs.find((o) => o.dims[o.dims.length - 1] === MESH_POINTS * 3);
    const flagOut = outputs.find((o) => o.dims[o.dims.length - 1] === 1);
    if (!meshOut || !flagOut)
      throw new InternalError(`Unexpected FaceMesh outputs: ${outputs.map((o) => `[${o.dims.join(',')}]`).join(' ')}`);
    const n = MESH_POINTS * 3;
    return toImage.map((map, i) => ({
      points: mapMesh(meshOut.data.subarray(i * n, (i + 1) * n), map),
      score: flagOut.data[i]!,
    }));
  }

  /**
   * The face of a tight crop without BlazeFace: FaceMesh on the whole image letterboxed into its
   * input, and a second pass when the first is near the boundary (detect/tight-crop.ts decides).
   * No face: the image is not a tight crop, for `reason`.
   */
  async tightCrop(image: RgbImage): Promise<TightCrop> {
    const place = letterboxPlacement(image.width, image.height, MESH_SIZE);
    const input = new Float32Array(MESH_SIZE * MESH_SIZE * 3);
    const norm = { scale: 1 / 255 };
    // Up to 3x smaller, bilinear sampling as runMesh does (~1 ms for a 160 px crop, against
    // ~1.7-2.3 ms for a libvips resize of it, mostly its fixed cost); past 3x libvips averages the
    // area (no JS area shrink of a big image).
    if (Math.max(image.width, image.height) / MESH_SIZE < 3) {
      warpInto(image, meshCropSampling(place.toImage), MESH_SIZE, MESH_SIZE, input, norm);
    } else {
      placeInto(await resizeRgb(image, place.width, place.height), place.left, place.top, MESH_SIZE, input, norm);
    }
    const [first] = await this.meshOn(input, [place.toImage]);
    const verdict = judgeTightCrop(first!.points, first!.score, image.width, image.height);
    if (verdict.kind === 'not') return { reason: verdict.reason, passes: 1 };
    let mesh = first!;
    if (verdict.kind === 'confirm') {
      const [second] = await this.runMesh(image, [verdict.region]);
      const check = confirmTightCrop(first!.points, second!.points, second!.score);
      if (!check.ok) return { reason: `${verdict.reason}, ${check.reason}`, passes: 2 };
      mesh = second!;
    }
    return {
      face: {
        box: meshBox(mesh.points, image.width, image.height),
        score: mesh.score,
        landmarks: fivePoints(mesh.points),
      },
      reason: verdict.kind === 'confirm' ? `${verdict.reason}, confirmed by a second pass` : verdict.reason,
      passes: verdict.kind === 'confirm' ? 2 : 1,
    };
  }

  async release(): Promise<void> {
    await Promise.all([this.blazeface.release(), this.facemesh.release()]);
  }
}

/**
 * Where a model's chip samples the image (chip pixel -> image pixel): `template` warps the five
 * points onto the ArcFace template (x templateScale), `landmark-box` resizes face-api's square
 * landmark box, `dlib-chip` is dlib's face chip (which cutChip samples from a pyramid level when
 * it shrinks the face more than 2x).
 */
export function chipWarp(face: DetectedFace, alignment: Alignment, size: number): Affine {
  const points: Point[] = face.landmarks;
  if (points.length !== 5) throw new ValueError(`Alignment needs the 5 detector landmarks, got ${points.length}`);
  if (alignment.kind === 'dlib-chip') return chipToImage(dlibFaceChipDetails(points, size, alignment.padding));
  return alignment.kind === 'template'
    ? templateWarp(points, alignment.templateScale)
    : boxWarp(landmarkBox(points), size);
}

/** Cuts the face out for an embedding model: a size x size interleaved RGB chip, and where it sits in the image. */
export function cutChip(
  image: RgbPixels,
  face: DetectedFace,
  alignment: Alignment,
  size: number,
): { pixels: Uint8Array; toSource: Affine } {
  if (alignment.kind === 'dlib-chip') {
    if (face.landmarks.length !== 5)
      throw new ValueError(`Alignment needs the 5 detector landmarks, got ${face.landmarks.length}`);
    return extractDlibChip(image, dlibFaceChipDetails(face.landmarks, size, alignment.padding));
  }
  const toSource = chipWarp(face, alignment, size);
  return { pixels: warpRgb(image, toSource, size), toSource };
}

/** Cuts the face out for an embedding model: a size x size interleaved RGB chip. */
export function alignFace(image: RgbImage, face: DetectedFace, alignment: Alignment, size: number): Uint8Array {
  return cutChip(image, face, alignment, size).pixels;
}
