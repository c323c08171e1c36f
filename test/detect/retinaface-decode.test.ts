import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  LANDMARK_SCALE,
  RETINAFACE_ANCHORS,
  decodeRetinaface,
  type RawTensor,
} from '../../src/detect/retinaface-decode.js';

/** Zeroed outputs of a 640x640 window; `set` writes one anchor's values. */
function outputs(): {
  tensors: Record<string, RawTensor>;
  set: (s: number, a: number, i: number, j: number, v: Values) => void;
} {
  const tensors: Record<string, RawTensor> = {};
  for (const { stride } of RETINAFACE_ANCHORS) {
    const h = 640 / stride,
      w = 640 / stride;
    const mk = (c: number): RawTensor => ({ data: new Float32Array(c * h * w), dims: [1, c, h, w] });
    tensors[`face_rpn_cls_prob_reshape_stride${stride}`] = mk(4);
    tensors[`face_rpn_bbox_pred_stride${stride}`] = mk(8);
    tensors[`face_rpn_landmark_pred_stride${stride}`] = mk(20);
  }
  const set = (stride: number, a: number, i: number, j: number, v: Values) => {
    const w = 640 / stride,
      plane = w * w,
      k = i * w + j;
    tensors[`face_rpn_cls_prob_reshape_stride${stride}`]!.data[(a + 2) * plane + k] = v.score;
    v.box?.forEach((d, c) => (tensors[`face_rpn_bbox_pred_stride${stride}`]!.data[(a * 4 + c) * plane + k] = d));
    v.landmarks?.forEach(
      (d, c) => (tensors[`face_rpn_landmark_pred_stride${stride}`]!.data[(a * 10 + c) * plane + k] = d),
    );
  };
  return { tensors, set };
}
interface Values {
  score: number;
  box?: number[];
  landmarks?: number[];
}

test('an anchor with zero deltas decodes to its own square at its cell centre', () => {
  const { tensors, set } = outputs();
  set(16, 1, 3, 5, { score: 0.9 }); // stride 16, second anchor: side 64, centre (5*16+8, 3*16+8)
  const faces = decodeRetinaface(tensors, 0.7);
  assert.equal(faces.length, 1);
  assert.deepEqual(faces[0]!.rect, [88 - 32, 56 - 32, 88 + 32, 56 + 32]);
  assert.ok(Math.abs(faces[0]!.score - 0.9) < 1e-6);
  for (const p of faces[0]!.landmarks) assert.deepEqual(p, [88, 56]);
});

test('box deltas shift by the anchor side and scale by exp; landmarks move by side * scale + 1', () => {
  const { tensors, set } = outputs();
  set(8, 0, 10, 20, { score: 0.8, box: [0.5, -0.25, Math.log(2), 0], landmarks: [1, 0, 0, -1, 0, 0, 0, 0, 2, 2] });
  const [face] = decodeRetinaface(tensors, 0.7);
  // stride 8 anchor 0: side 32, centre (168, 88); centre moves to (184, 80), width 64, height 32.
  const close = (a: readonly number[], b: readonly number[]) =>
    assert.ok(
      a.every((v, i) => Math.abs(v - b[i]!) < 1e-4),
      `${a.join(',')} != ${b.join(',')}`,
    );
  close(face!.rect, [184 - 32, 80 - 16, 184 + 32, 80 + 16]);
  const reach = 32 * LANDMARK_SCALE + 1;
  close(face!.landmarks[0]!, [168 + reach, 88]);
  close(face!.landmarks[1]!, [168, 88 - reach]);
  close(face!.landmarks[4]!, [168 + 2 * reach, 88 + 2 * reach]);
});

test('anchors under the score threshold and background channels are ignored', () => {
  const { tensors, set } = outputs();
  set(32, 0, 1, 1, { score: 0.69 });
  // A high background probability (channel 0) is not a face.
  tensors['face_rpn_cls_prob_reshape_stride32']!.data[0] = 0.99;
  assert.deepEqual(decodeRetinaface(tensors, 0.7), []);
});

test('a missing output is named in the error', () => {
  const { tensors } = outputs();
  delete tensors['face_rpn_bbox_pred_stride16'];
  assert.throws(() => decodeRetinaface(tensors, 0.7), /face_rpn_bbox_pred_stride16/);
});
