// The merge of a split photo's shares (services/split-photo.ts) on hand-made shares: the faces of
// one merge over every window, and a face that only the whole merge keeps refitted on request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DetectedFace, Point } from '../../src/domain/face.js';
import type { ScanCandidate } from '../../src/detect/photo-scan.js';
import type { RefitOutput, RefitTask, ScanPartOutput, ScanPartTask, TaskOutput } from '../../src/inference/protocol.js';
import { splitPhotoFaces } from '../../src/services/split-photo.js';

const points: Point[] = [
  [0, 0],
  [1, 0],
  [0, 1],
  [1, 1],
  [2, 2],
];
const candidate = (rect: ScanCandidate['rect'], score: number): ScanCandidate => ({
  rect,
  score,
  landmarks: points,
  cut: false,
});
/** What a refit makes of a candidate here: its box 10 px lower (so the test sees which faces were refitted). */
const refitted = (c: ScanCandidate): DetectedFace => ({
  box: [c.rect[0], c.rect[1] + 10, c.rect[2] - c.rect[0], c.rect[3] - c.rect[1]],
  score: c.score,
  landmarks: points,
});

test('shares merge as one list; a face only the whole merge keeps is refitted by one more task', async () => {
  // Share 0: A outranks B (IoU 0.54), so share 0 refits A only. Share 1: C outranks A (IoU 0.54),
  // which frees B (IoU 0.25 with C): the whole merge keeps C and B.
  const a = candidate([100, 100, 200, 200], 0.9);
  const b = candidate([130, 100, 230, 200], 0.8);
  const c = candidate([70, 100, 170, 200], 0.95);
  const share = (candidates: ScanCandidate[], refit: (DetectedFace | null)[], windowOf: number[]): ScanPartOutput => ({
    kind: 'scanPart',
    width: 2000,
    height: 1500,
    candidates,
    windowOf,
    refitted: refit,
    durationMs: 1,
    timings: { decode: 5, detect: 20, windows: 1, network: 15 },
  });
  const shares = [share([a, b], [refitted(a), null], [0, 0]), share([c], [refitted(c)], [1])];
  const refits: RefitTask[] = [];
  const run = async <T extends ScanPartTask | RefitTask>(task: T): Promise<TaskOutput<T>> => {
    if (task.kind === 'scanPart') return shares[task.part] as TaskOutput<T>;
    refits.push(task);
    const faces = task.faces.map((f): DetectedFace => ({ ...f, box: [f.box[0], f.box[1] + 10, f.box[2], f.box[3]] }));
    const out: RefitOutput = { kind: 'refit', faces, durationMs: 1, timings: { network: 3 } };
    return out as unknown as TaskOutput<T>;
  };
  const out = await splitPhotoFaces({ kind: 'faces', imagePath: '/photo.jpg' }, 2, run);
  assert.deepEqual(
    refits.map((r) => r.faces.map((f) => f.box)),
    [[[130, 100, 100, 100]]],
  );
  assert.deepEqual(
    out.faces.map((f) => f.box),
    [refitted(c).box, refitted(b).box],
  );
  assert.deepEqual([out.width, out.height], [2000, 1500]);
  assert.deepEqual(
    [out.timings.windows, out.timings.network, out.timings.detect, out.timings.workers, out.timings.refits],
    [2, 33, 20, 2, 1],
  );
});
