// The chips bench:alignment compares: for facenet, face-api's landmark box (shipped before) and
// dlib's chip (from our five points, or from dlib's own 68 landmarks); for arcface, the ArcFace
// template by a similarity transform or by the package demo's 3-point affine, fed with several
// normalisations and channel orders. Inputs are stated as changes to the registry's shipped input,
// so the variant that is what the product cuts and feeds is found, not named (shippedVariant).
import {
  arcfaceTemplate,
  boxWarp,
  landmarkBox,
  similarityTransform,
  templateWarp,
  type Affine,
} from '../../src/detect/alignment.js';
import { dlibFaceChipDetails } from '../../src/detect/dlib-chip.js';
import { extractDlibChip } from '../../src/detect/dlib-resample.js';
import { warpRgb, type RgbPixels } from '../../src/detect/resample.js';
import type { Point } from '../../src/domain/face.js';
import type { Alignment, InputSpec, ModelSpec } from '../../src/models/registry.js';

/** What a photo offers a chip: our detector's five points, and dlib's 68 when the reference ran. */
export interface PhotoFace {
  five: Point[];
  dlib68?: Point[];
}

export interface Variant {
  /** The chip; its input is described from the spec it is fed with (inputLabel). */
  name: string;
  model: 'facenet' | 'arcface';
  /** The registry alignment this chip is when cut from our five points; unset: one the product never cuts. */
  recipe?: Alignment['kind'];
  /** Landmarks the chip needs beyond our five points. */
  needs?: 'dlib68';
  /** Changes to the model's shipped input spec (normalisation, channel order). */
  input?: (shipped: InputSpec) => Partial<InputSpec>;
  /** The chip, or undefined when this variant needs landmarks the photo lacks. */
  chip(image: RgbPixels, face: PhotoFace): Uint8Array | undefined;
}

/** The affine taking three chip points exactly onto three image points (cv2.getAffineTransform's solution). */
export function threePointAffine(chip: readonly Point[], image: readonly Point[]): Affine {
  const [[x0, y0], [x1, y1], [x2, y2]] = chip as [Point, Point, Point];
  const det = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
  if (Math.abs(det) < 1e-12) throw new Error('Three collinear points define no affine map');
  const solve = (v0: number, v1: number, v2: number): [number, number, number] => {
    const a = ((v1 - v0) * (y2 - y0) - (v2 - v0) * (y1 - y0)) / det;
    const b = ((x1 - x0) * (v2 - v0) - (x2 - x0) * (v1 - v0)) / det;
    return [a, b, v0 - a * x0 - b * y0];
  };
  const [a, b, c] = solve(image[0]![0], image[1]![0], image[2]![0]);
  const [d, e, f] = solve(image[0]![1], image[1]![1], image[2]![1]);
  return [a, b, c, d, e, f];
}

const dlibChip = (points: Point[] | undefined, image: RgbPixels) =>
  points ? extractDlibChip(image, dlibFaceChipDetails(points, 150, 0.25)).pixels : undefined;

export const FACENET_VARIANTS: readonly Variant[] = [
  {
    name: 'landmark box (face-api alignDlib), our 5 points',
    model: 'facenet',
    recipe: 'landmark-box',
    chip: (image, f) => warpRgb(image, boxWarp(landmarkBox(f.five), 150), 150),
  },
  {
    name: 'dlib chip 150/0.25, our 5 points',
    model: 'facenet',
    recipe: 'dlib-chip',
    chip: (image, f) => dlibChip(f.five, image),
  },
  {
    name: "dlib chip 150/0.25, dlib's 68 points",
    model: 'facenet',
    needs: 'dlib68',
    chip: (image, f) => dlibChip(f.dlib68, image),
  },
];

const template = (image: RgbPixels, f: PhotoFace) => warpRgb(image, templateWarp(f.five, 1), 112);
const otherOrder = (s: InputSpec): Partial<InputSpec> => ({ channelOrder: s.channelOrder === 'rgb' ? 'bgr' : 'rgb' });

export const ARCFACE_VARIANTS: readonly Variant[] = [
  { name: 'template (similarity)', model: 'arcface', recipe: 'template', chip: template },
  {
    name: 'template (similarity)',
    model: 'arcface',
    recipe: 'template',
    input: () => ({ mean: [127.5, 127.5, 127.5] }),
    chip: template,
  },
  {
    name: 'template (similarity)',
    model: 'arcface',
    recipe: 'template',
    input: () => ({ mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] }),
    chip: template,
  },
  { name: 'template (similarity)', model: 'arcface', recipe: 'template', input: otherOrder, chip: template },
  {
    // The package's own demo (lib/fr_feature.js): its affine, fed RGB as (x - 127) / 128.
    name: 'template (3-point affine, package demo)',
    model: 'arcface',
    input: () => ({ channelOrder: 'rgb', mean: [127, 127, 127], std: [128, 128, 128] }),
    chip: (image, f) => warpRgb(image, threePointAffine(arcfaceTemplate(1), f.five), 112),
  },
];

/** The input a variant is fed: the model's shipped input with the variant's changes. */
export const variantInput = (v: Variant, spec: ModelSpec): InputSpec => ({ ...spec.input, ...v.input?.(spec.input) });

/** Whether the variant is what the product cuts and feeds: the registry's alignment and input, our five points. */
export function isShipped(v: Variant, spec: ModelSpec): boolean {
  const input = variantInput(v, spec);
  return (
    v.recipe === spec.alignment.kind &&
    (Object.keys(spec.input) as (keyof InputSpec)[]).every(
      (k) => JSON.stringify(input[k]) === JSON.stringify(spec.input[k]),
    )
  );
}

/** "BGR, (x - 127) / 128"; per-channel values when the channels differ. */
export function inputLabel(input: InputSpec): string {
  const one = (v: readonly number[]) => (v.every((x) => x === v[0]) ? `${v[0]}` : `[${v.join(', ')}]`);
  return `${input.channelOrder.toUpperCase()}, (x - ${one(input.mean)}) / ${one(input.std)}`;
}

/** RMS distance (chip pixels) between the warped five points and the template they were fitted to. */
export function templateResidual(five: readonly Point[], target: readonly Point[]): number {
  const m = similarityTransform(five, target);
  let sum = 0;
  five.forEach(([x, y], i) => {
    sum += (m[0] * x + m[1] * y + m[2] - target[i]![0]) ** 2 + (m[3] * x + m[4] * y + m[5] - target[i]![1]) ** 2;
  });
  return Math.sqrt(sum / five.length);
}
