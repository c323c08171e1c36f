// Sharpness of a face as the variance of the Laplacian of its aligned grey chip (112 px, the
// ArcFace template): a blurred or upscaled small face has little high-frequency energy left.
// Aligning first makes faces of every size and angle comparable.
import type { Point } from '../domain/face.js';
import { templateWarp } from './alignment.js';
import { warpRgb, type RgbPixels } from './resample.js';

const CHIP = 112;
/** Pixels left out at each side of the chip: the template's corners may lie outside the crop (black). */
const BORDER = 16;

export function alignedSharpness(image: RgbPixels, landmarks: readonly Point[]): number {
  const chip = warpRgb(image, templateWarp(landmarks, CHIP / 112), CHIP);
  const side = CHIP - 2 * BORDER;
  const grey = new Float32Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const i = ((y + BORDER) * CHIP + x + BORDER) * 3;
      grey[y * side + x] = 0.299 * chip[i]! + 0.587 * chip[i + 1]! + 0.114 * chip[i + 2]!;
    }
  return laplacianVariance(grey, side, side);
}

/** Variance of the 4-neighbour Laplacian over the interior pixels. */
export function laplacianVariance(grey: Float32Array, width: number, height: number): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const v = grey[i - 1]! + grey[i + 1]! + grey[i - width]! + grey[i + width]! - 4 * grey[i]!;
      sum += v;
      sumSq += v * v;
      n++;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}
