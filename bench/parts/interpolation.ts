// The interpolation lever: a small face's chip is upsampled from few pixels, and the worker
// samples it bilinearly (src/detect/resample.ts). Here the same chips are cut again in this
// process from the same decoded pixels and landmarks, with bilinear sampling (the control: it
// must reproduce the worker's vectors), Keys bicubic sampling, or a libvips Lanczos-3 enlargement
// of the photo first (then bilinear at about one photo pixel per chip pixel), and embedded with
// onnxruntime directly.
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { Affine } from '../../src/detect/alignment.js';
import { warpRgb, type RgbPixels } from '../../src/detect/resample.js';
import type { FivePoints } from '../../src/domain/face.js';
import { l2Normalize } from '../../src/domain/vector.js';
import { chipWarp, cutChip } from '../../src/inference/worker/face-detector.js';
import { toInputTensor } from '../../src/models/input-tensor.js';
import type { ModelSpec } from '../../src/models/registry.js';
import type { Embeddings } from './small-faces.js';

export const UPSAMPLERS = ['bilinear', 'bicubic', 'lanczos3'] as const;
export type Upsampler = (typeof UPSAMPLERS)[number];

/** Keys' cubic convolution kernel (a = -0.5), the usual "bicubic". */
function keys(t: number): number {
  const x = Math.abs(t);
  if (x < 1) return 1.5 * x ** 3 - 2.5 * x ** 2 + 1;
  if (x < 2) return -0.5 * x ** 3 + 2.5 * x ** 2 - 4 * x + 2;
  return 0;
}

/** Bicubic affine warp (output pixel -> `toSource`), edge pixels clamped, black outside the image. */
export function warpBicubic(image: RgbPixels, toSource: Affine, size: number): Uint8Array {
  const { data, width: w, height: h } = image;
  const out = new Uint8ClampedArray(size * size * 3);
  const [a, b, c, d, e, f] = toSource;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const x = a * u + b * v + c,
        y = d * u + e * v + f;
      const o = (v * size + u) * 3;
      if (x < -0.5 || y < -0.5 || x > w - 0.5 || y > h - 0.5) continue;
      const x0 = Math.floor(x),
        y0 = Math.floor(y);
      const rgb = [0, 0, 0];
      for (let j = -1; j <= 2; j++) {
        const wy = keys(y - (y0 + j));
        const py = Math.min(h - 1, Math.max(0, y0 + j));
        for (let i = -1; i <= 2; i++) {
          const wt = wy * keys(x - (x0 + i));
          const px = Math.min(w - 1, Math.max(0, x0 + i));
          const k = (py * w + px) * 3;
          rgb[0]! += data[k]! * wt;
          rgb[1]! += data[k + 1]! * wt;
          rgb[2]! += data[k + 2]! * wt;
        }
      }
      out[o] = rgb[0]!;
      out[o + 1] = rgb[1]!;
      out[o + 2] = rgb[2]!;
    }
  }
  return new Uint8Array(out.buffer);
}

async function decode(file: string, scale = 1): Promise<RgbPixels> {
  let image = sharp(file).rotate();
  if (scale > 1) {
    const { width = 1 } = await image.clone().metadata();
    image = image.resize({ width: Math.round(width * scale), kernel: 'lanczos3' });
  }
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/**
 * The photos' chips cut again with `upsampler` from the landmarks the worker found (`found`),
 * embedded with the model's ONNX file. Photos without a detected face keep the worker's vector.
 */
export async function reembed(
  spec: ModelSpec,
  modelPath: string,
  files: ReadonlyMap<string, string>,
  found: Embeddings,
  upsampler: Upsampler,
): Promise<Embeddings> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 2 });
  const output = spec.output ?? session.outputNames[0]!;
  const out: Embeddings = new Map();
  try {
    for (const [name, e] of found) {
      const landmarks = e?.face.landmarks as FivePoints | undefined;
      if (!e || !e.face.detected || !landmarks) {
        out.set(name, e);
        continue;
      }
      const face = { box: e.face.box!, score: e.face.score ?? 1, landmarks };
      let toSource = chipWarp(face, spec.alignment, spec.input.size);
      let image: RgbPixels;
      if (upsampler === 'lanczos3') {
        // Enlarge the photo so that one chip pixel is about one photo pixel, then sample bilinearly.
        const k = Math.max(1, 1 / Math.hypot(toSource[0], toSource[3]));
        image = await decode(files.get(name)!, k);
        const scaled = landmarks.map((p) => [(p[0] + 0.5) * k - 0.5, (p[1] + 0.5) * k - 0.5]) as FivePoints;
        toSource = chipWarp({ ...face, landmarks: scaled }, spec.alignment, spec.input.size);
      } else image = await decode(files.get(name)!);
      // The bilinear control cuts the chip as the worker does (dlib's chip for facenet).
      const chip =
        upsampler === 'bicubic'
          ? warpBicubic(image, toSource, spec.input.size)
          : upsampler === 'bilinear'
            ? cutChip(image, face, spec.alignment, spec.input.size).pixels
            : warpRgb(image, toSource, spec.input.size);
      const input = toInputTensor(chip, spec.input);
      const result = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input.data, input.dims) });
      out.set(name, { ...e, embedding: l2Normalize(result[output]!.data as Float32Array) });
    }
  } finally {
    await session.release();
  }
  return out;
}

/** Largest absolute difference between two sets of vectors (the bilinear control against the worker). */
export function maxDifference(a: Embeddings, b: Embeddings): number {
  let max = 0;
  for (const [k, e] of a) {
    const other = b.get(k);
    if (!e || !other) continue;
    for (let i = 0; i < e.embedding.length; i++) max = Math.max(max, Math.abs(e.embedding[i]! - other.embedding[i]!));
  }
  return max;
}
