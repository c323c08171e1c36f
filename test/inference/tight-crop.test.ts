// The tight-crop fast path with the real networks: faces cut from face-api's demo photos with a
// session's 25% margin take it (and land where BlazeFace + FaceMesh put them); the photos
// themselves, a small face pasted into a large image, and the shared dataset's small full
// portraits do not. Through the worker runtime, the timings tell the two paths apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { DetectedFace, FivePoints } from '../../src/domain/face.js';
import { landmarkDrift } from '../../src/detect/tight-crop.js';
import { CROP_MARGIN, marginRegion } from '../../src/image/crop.js';
import { DEFAULT_LIMITS, decodeImage } from '../../src/image/decode.js';
import { FaceDetector } from '../../src/inference/worker/face-detector.js';
import { PhotoDetector } from '../../src/inference/worker/photo-detector.js';
import { WorkerRuntime } from '../../src/inference/worker/runtime.js';
import { DATASET, DATASET_SKIP, sample } from '../helpers/paths.js';

const largest = (faces: DetectedFace[]) => [...faces].sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];

test('tight-crop fast path on real images', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'faceembed-tight-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const modelsDir = path.join(dir, 'models');
  const detector = await FaceDetector.load(modelsDir, 1);
  t.after(() => detector.release());

  /** 160 px, 25%-margin crops (JPEG, as a session stores them) of every face the whole-photo detector finds. */
  const crops: string[] = [];
  await t.test('faces cut with a 25% margin take it; the group photos they come from do not', async () => {
    const photos = await PhotoDetector.load(modelsDir, 1);
    t.after(() => photos.release());
    let fast = 0;
    for (const n of [1, 2, 3, 4, 5, 6]) {
      const { image } = await decodeImage(sample(n), DEFAULT_LIMITS, 1024);
      const photo = await detector.tightCrop(image);
      assert.equal(photo.face, undefined, `sample${n}.jpg (a group photo) taken for a tight crop: ${photo.reason}`);
      // The faces as the whole-photo path returns them (a session cuts its crops from these boxes).
      const faces = await detector.refineFaces(image, (await photos.detect(image, { minFaceSize: 24 })).faces);
      for (const [i, face] of faces.entries()) {
        const [left, top, width, height] = marginRegion(face.box, image.width, image.height, CROP_MARGIN);
        const file = path.join(dir, `sample${n}-face${i}.jpg`);
        await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
          .extract({ left, top, width, height })
          .resize(160, 160, { fit: 'inside' })
          .jpeg({ quality: 90 })
          .toFile(file);
        const { image: crop } = await decodeImage(file);
        const verdict = await detector.tightCrop(crop);
        const slow = largest(await detector.detect(crop));
        const drift =
          verdict.face && slow
            ? landmarkDrift(verdict.face.landmarks as FivePoints, slow.landmarks as FivePoints)
            : NaN;
        t.diagnostic(
          `sample${n} face ${i}: ${verdict.face ? 'fast path' : 'BlazeFace'} (${verdict.reason})` +
            (verdict.face ? `, ${drift.toFixed(3)} eye distances from BlazeFace + FaceMesh` : ''),
        );
        if (!verdict.face) continue;
        fast++;
        crops.push(file);
        // Rolled heads the whole-image pass misreads go to BlazeFace; what it keeps lands where BlazeFace + FaceMesh put it.
        assert.ok(slow, `${file}: taken for a tight crop, yet BlazeFace finds no face`);
        assert.ok(drift < 0.08, `${file}: five points ${drift.toFixed(3)} eye distances from BlazeFace's`);
      }
    }
    assert.ok(fast >= 12, `only ${fast} crops took the fast path`);
  });

  await t.test('a small face in a large image does not, though BlazeFace finds it there', async () => {
    const face = await sharp(crops[0]!).toBuffer();
    const file = path.join(dir, 'small-face.jpg');
    await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 120, g: 130, b: 125 } } })
      .composite([{ input: face, left: 500, top: 300 }])
      .jpeg({ quality: 90 })
      .toFile(file);
    const { image } = await decodeImage(file);
    assert.ok((await detector.detect(image)).length >= 1, 'BlazeFace finds the pasted face');
    const verdict = await detector.tightCrop(image);
    assert.equal(verdict.face, undefined, `taken for a tight crop: ${verdict.reason}`);
  });

  await t.test(
    'small full portraits of the shared dataset, and 160 px copies, do not',
    { skip: DATASET_SKIP },
    async () => {
      // Head-and-shoulders photos: FaceMesh on the whole image is confident but off by 10-20% of the eye distance.
      for (const name of ['img5.jpg', 'img10.jpg', 'img25.jpg', 'img46.jpg']) {
        for (const width of [undefined, 160]) {
          const file = path.join(DATASET, name);
          const input = width ? await sharp(file).rotate().resize({ width }).jpeg({ quality: 70 }).toBuffer() : file;
          const { image } = await decodeImage(input, DEFAULT_LIMITS, 1024);
          const verdict = await detector.tightCrop(image);
          assert.equal(
            verdict.face,
            undefined,
            `${name} at ${image.width} px taken for a tight crop: ${verdict.reason}`,
          );
        }
      }
    },
  );

  await t.test('the worker runtime: timings and the step log say which path ran; the switch turns it off', async () => {
    const settings = { modelsDir, preload: [], threads: 1, limits: DEFAULT_LIMITS };
    const steps: { message: string; fields?: Record<string, unknown> }[] = [];
    const log = (message: string, fields?: Record<string, unknown>) =>
      steps.push({ message, ...(fields ? { fields } : {}) });
    const on = new WorkerRuntime(settings);
    const task = (imagePath: string) => ({
      kind: 'embed' as const,
      imagePath,
      model: 'facenet',
      detect: 'auto' as const,
    });

    const fast = await on.embed(task(crops[0]!), log);
    assert.equal(fast.face.detected, true);
    assert.ok(fast.timings.tightCrop !== undefined && fast.timings.detect === undefined, JSON.stringify(fast.timings));
    const verdict = steps.find((s) => s.fields?.tightCrop !== undefined);
    assert.equal(verdict?.fields?.tightCrop, true);
    assert.match(
      verdict!.message,
      /^Tight crop \(face .* of the image.*\): FaceMesh on the whole image, BlazeFace skipped$/,
    );

    steps.length = 0;
    const photo = await on.embed(task(sample(1)), log);
    assert.equal(photo.face.detected, true);
    assert.ok(
      photo.timings.tightCrop !== undefined && photo.timings.detect !== undefined,
      JSON.stringify(photo.timings),
    );
    assert.match(
      steps.find((s) => s.fields?.tightCrop === false)!.message,
      /^Not a tight crop \(.*\): BlazeFace \+ FaceMesh$/,
    );

    const off = new WorkerRuntime({ ...settings, tightCrops: false });
    const slow = await off.embed(task(crops[0]!), () => {});
    assert.ok(slow.timings.tightCrop === undefined && slow.timings.detect !== undefined, JSON.stringify(slow.timings));
    // Both paths align the same face: the embeddings agree closely (facenet's same-person threshold is 0.932).
    const cosine = fast.embedding.reduce((s, v, i) => s + v * slow.embedding[i]!, 0);
    t.diagnostic(`crop of sample1: cosine ${cosine.toFixed(4)} between the fast path and BlazeFace + FaceMesh`);
    assert.ok(cosine > 0.98, `cosine ${cosine.toFixed(4)}`);
  });
});
