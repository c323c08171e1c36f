// BlazeFace + FaceMesh on onnxruntime-node over face-api's demo photos: faces found where
// face-api found them, sensible landmarks, alignment chips whose faces land on the template.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DetectedFace, Point } from '../../src/domain/face.js';
import { applyAffine, arcfaceTemplate, invertAffine, templateWarp } from '../../src/detect/alignment.js';
import { rescaleFaces } from '../../src/detect/rescale.js';
import { decodeImage, type RgbImage } from '../../src/image/decode.js';
import { dlibFivePointTemplate } from '../../src/detect/dlib-chip.js';
import { FaceDetector, alignFace, cutChip } from '../../src/inference/worker/face-detector.js';
import { sample } from '../helpers/paths.js';

/** Square crops (left, top, side) around the most confident face face-api finds in each demo photo. */
const FACEAPI_FACES: readonly [number, number, number, number][] = [
  [1, 370, 343, 264],
  [2, 1411, 141, 266],
  [3, 535, 315, 298],
  [4, 615, 40, 284],
  [5, 748, 98, 233],
  [6, 592, 305, 338],
];

const eyeDistance = (f: DetectedFace) =>
  Math.hypot(f.landmarks[1]![0] - f.landmarks[0]![0], f.landmarks[1]![1] - f.landmarks[0]![1]);
const inside = ([x, y]: Point, [bx, by, bw, bh]: readonly number[]) =>
  x >= bx! && x <= bx! + bw! && y >= by! && y <= by! + bh!;

test('FaceDetector on face-api demo photos', async (t) => {
  const modelsDir = await mkdtemp(path.join(tmpdir(), 'faceembed-detector-'));
  t.after(() => rm(modelsDir, { recursive: true, force: true }));
  const detector = await FaceDetector.load(modelsDir, 2);
  t.after(() => detector.release());

  const full: Record<number, { image: RgbImage; faces: DetectedFace[] }> = {};

  await t.test("finds face-api's surest face in every photo; landmarks inside boxes, eyes above mouths", async () => {
    for (const [n, left, top, side] of FACEAPI_FACES) {
      const { image, info } = await decodeImage(sample(n));
      const faces = await detector.detect(image);
      full[n] = { image, faces };
      t.diagnostic(
        `sample${n}.jpg ${info.width}x${info.height}: ${faces.length} faces, scores ${faces.map((f) => f.score.toFixed(2)).join(' ')}`,
      );
      assert.ok(faces.length >= 1, `sample${n}: no face`);
      assert.ok(
        faces.some((f) => inside([f.box[0] + f.box[2] / 2, f.box[1] + f.box[3] / 2], [left, top, side, side])),
        `sample${n}: no face inside face-api's crop`,
      );
      faces.forEach((f, i) => {
        assert.equal(f.landmarks.length, 5);
        assert.ok(
          f.score > 0 && f.score <= 1 && (i === 0 || f.score <= faces[i - 1]!.score),
          'scores in (0, 1], best first',
        );
        for (const p of f.landmarks) assert.ok(inside(p, f.box), `sample${n}: landmark ${p} outside box ${f.box}`);
        const [eyeR, eyeL, nose, mouthR, mouthL] = f.landmarks as [Point, Point, Point, Point, Point];
        assert.ok(eyeR[0] < eyeL[0], "the person's right eye is on the image left");
        assert.ok(mouthR[0] < mouthL[0]);
        // Above in the image, and below the eye line in the face's own frame (some heads are tilted).
        const eyes: Point = [(eyeR[0] + eyeL[0]) / 2, (eyeR[1] + eyeL[1]) / 2];
        const mouth: Point = [(mouthR[0] + mouthL[0]) / 2, (mouthR[1] + mouthL[1]) / 2];
        assert.ok(eyes[1] < mouth[1], `sample${n}: eyes above the mouth`);
        const below = (p: Point) => (eyeL[0] - eyeR[0]) * (p[1] - eyeR[1]) - (eyeL[1] - eyeR[1]) * (p[0] - eyeR[0]);
        assert.ok(below(nose) > 0 && below(mouth) > below(nose), `sample${n}: nose, then mouth, below the eye line`);
        assert.ok(f.box[2] > eyeDistance(f) && f.box[2] < 6 * eyeDistance(f), 'box about a face wide');
      });
    }
  });

  await t.test('a shrunken copy gives the same landmarks once mapped back', async () => {
    for (const n of [1, 4]) {
      const { image: small } = await decodeImage(sample(n), undefined, 640);
      const ref = full[n]!;
      const faces = rescaleFaces(await detector.detect(small), small, ref.image);
      assert.equal(faces.length, ref.faces.length);
      for (const f of ref.faces) {
        const match = faces.find(
          (g) =>
            Math.hypot(g.landmarks[0]![0] - f.landmarks[0]![0], g.landmarks[0]![1] - f.landmarks[0]![1]) <
            eyeDistance(f) / 2,
        );
        assert.ok(match, `sample${n}: face at ${f.box} not found on the small copy`);
        const err =
          f.landmarks.reduce(
            (s, p, i) => s + Math.hypot(p[0] - match.landmarks[i]![0], p[1] - match.landmarks[i]![1]),
            0,
          ) / 5;
        assert.ok(err < 0.12 * eyeDistance(f), `sample${n}: landmarks moved by ${err.toFixed(1)} px`);
      }
    }
  });

  await t.test('aligned chips: each landmark lands where the similarity sends it', async () => {
    // Detecting again inside the 224 chip must find the five points where the transform put them.
    for (const n of [1, 3, 6]) {
      const { image, faces } = full[n]!;
      const face = faces[0]!;
      const chip = alignFace(image, face, { kind: 'template', templateScale: 2 }, 224);
      assert.equal(chip.length, 224 * 224 * 3);
      const toChip = invertAffine(templateWarp(face.landmarks, 2));
      const again = await detector.detect({ data: Buffer.from(chip), width: 224, height: 224 });
      assert.ok(again.length >= 1, `sample${n}: no face in the aligned chip`);
      const err =
        again[0]!.landmarks.reduce((s, p, i) => {
          const [x, y] = applyAffine(toChip, face.landmarks[i]!);
          return s + Math.hypot(p[0] - x, p[1] - y);
        }, 0) / 5;
      t.diagnostic(
        `sample${n}: chip landmarks ${err.toFixed(1)} px from where the transform put them (eyes 70 px apart)`,
      );
      assert.ok(err < 5, `sample${n}: ${err.toFixed(1)} px off`);
      // The fit itself: both eyes close to the template's.
      arcfaceTemplate(2)
        .slice(0, 2)
        .forEach((q, i) => {
          const [x, y] = applyAffine(toChip, face.landmarks[i]!);
          assert.ok(Math.hypot(x - q[0], y - q[1]) < 12, `sample${n}: eye ${i} at ${x.toFixed(0)},${y.toFixed(0)}`);
        });

      const box = alignFace(image, faces[0]!, { kind: 'landmark-box' }, 150);
      assert.equal(box.length, 150 * 150 * 3);
      const inBox = await detector.detect({ data: Buffer.from(box), width: 150, height: 150 });
      assert.ok(inBox.length >= 1, `sample${n}: no face in the landmark-box chip`);
      const [cx, cy] = [inBox[0]!.box[0] + inBox[0]!.box[2] / 2, inBox[0]!.box[1] + inBox[0]!.box[3] / 2];
      assert.ok(
        Math.abs(cx - 75) < 20 && Math.abs(cy - 75) < 25,
        `sample${n}: face centred in the chip (${cx.toFixed(0)}, ${cy.toFixed(0)})`,
      );

      // dlib's chip: both eyes land near dlib's template for them (the nose of a turned face
      // may not: the fit is least squares over five points), and the chip holds a face.
      const dlib = cutChip(image, faces[0]!, { kind: 'dlib-chip', padding: 0.25 }, 150);
      assert.equal(dlib.pixels.length, 150 * 150 * 3);
      const toDlibChip = invertAffine(dlib.toSource);
      dlibFivePointTemplate(150, 0.25)
        .slice(0, 2)
        .forEach((q, i) => {
          const [x, y] = applyAffine(toDlibChip, faces[0]!.landmarks[i]!);
          assert.ok(
            Math.hypot(x - q[0], y - q[1]) < 12,
            `sample${n}: point ${i} at ${x.toFixed(0)},${y.toFixed(0)} in the dlib chip`,
          );
        });
      const inDlib = await detector.detect({ data: Buffer.from(dlib.pixels), width: 150, height: 150 });
      assert.ok(inDlib.length >= 1, `sample${n}: no face in the dlib chip`);
    }
    assert.throws(
      () =>
        alignFace(full[1]!.image, { box: [0, 0, 1, 1], score: 1, landmarks: [[0, 0]] }, { kind: 'landmark-box' }, 150),
      /5 detector landmarks/,
    );
  });

  await t.test('no face in a plain grey image', async () => {
    const grey = { data: Buffer.alloc(320 * 240 * 3, 128), width: 320, height: 240 };
    assert.deepEqual(await detector.detect(grey), []);
  });
});
