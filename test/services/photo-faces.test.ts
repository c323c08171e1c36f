// Whole-photo detection and embedFaces through the real pool: a class photo made of the sample
// photos finds every face each sample has on its own, in place and with the same embedding.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/config.js';
import { iou } from '../../src/detect/blazeface-decode.js';
import type { Box } from '../../src/domain/face.js';
import { cosineSimilarity } from '../../src/domain/vector.js';
import type { FaceembedError } from '../../src/errors.js';
import { createLogger } from '../../src/logging/logger.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import { encodePng } from '../helpers/images.js';
import { sample } from '../helpers/paths.js';

let service: EmbeddingService;
let tmp: string;
const rect = ([x, y, w, h]: Box) => [x, y, x + w, y + h];

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'faceembed-photo-faces-'));
  service = new EmbeddingService({ modelName: 'facenet', workers: 1, logger: createLogger('silent') });
  await service.ready();
});
after(async () => {
  await service.close();
  await rm(tmp, { recursive: true, force: true });
});

/** Sample n shrunk to `width` px, as raw RGB (the same pixels go into the tile file and the canvas). */
async function tile(n: number, width: number) {
  const { data, info } = await sharp(sample(n)).resize(width).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const rawPng = (t: { data: Buffer; width: number; height: number }, file: string) =>
  sharp(t.data, { raw: { width: t.width, height: t.height, channels: 3 } })
    .png()
    .toFile(file);

test('a 24-MP class photo of the samples: each sample face found in place, embedded alike', async () => {
  const tiles = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => tile(n, 900)));
  const places = tiles.map((_, i) => ({ left: 300 + (i % 3) * 1900, top: 400 + Math.floor(i / 3) * 1900 }));
  const alone = [];
  for (const [i, t] of tiles.entries()) {
    const file = path.join(tmp, `tile${i}.png`);
    await rawPng(t, file);
    alone.push(await service.embedFaces(file));
  }
  const expected = alone.flatMap((r, i) =>
    r.faces.map((f) => ({
      ...f,
      box: [f.box[0] + places[i]!.left, f.box[1] + places[i]!.top, f.box[2], f.box[3]] as Box,
    })),
  );
  assert.ok(expected.length >= 6, `the samples alone gave ${expected.length} faces`);
  const photo = path.join(tmp, 'class.png');
  await sharp({ create: { width: 6000, height: 4000, channels: 3, background: { r: 120, g: 130, b: 125 } } })
    .composite(
      tiles.map((t, i) => ({ input: t.data, raw: { width: t.width, height: t.height, channels: 3 }, ...places[i]! })),
    )
    .png()
    .toFile(photo);
  const found = await service.embedFaces(photo);
  assert.deepEqual([found.width, found.height, found.dimensions, found.modelName], [6000, 4000, 128, 'facenet']);
  assert.equal(found.faces.length, expected.length);
  const areas = found.faces.map((f) => f.box[2] * f.box[3]);
  assert.deepEqual(
    areas,
    [...areas].sort((a, b) => b - a),
    'largest first',
  );
  for (const e of expected) {
    const match = found.faces.find((f) => iou(rect(f.box), rect(e.box)) > 0.8);
    assert.ok(match, `no face at ${e.box.map(Math.round).join(',')}`);
    assert.ok(cosineSimilarity(match.embedding, e.embedding) > 0.97, 'same face, same embedding');
  }
  const boxes = await service.detectFaces(photo);
  assert.deepEqual(
    boxes.map((f) => f.box),
    found.faces.map((f) => f.box),
  );
  assert.equal(boxes[0]!.landmarks.length, 5);
});

test('300 faces are all returned; maxFaces keeps the largest', async () => {
  // Sample 2's face is frontal: found at every size here (sample 1's tilted face is missed at ~50 px).
  const t = await tile(2, 600);
  const alone = path.join(tmp, 'one.png');
  await rawPng(t, alone);
  const [face] = await service.detectFaces(alone);
  assert.ok(face);
  // The face with a margin, pasted 300 times at 50-80 px in a 20 x 15 grid.
  const [x, y, w, h] = face.box;
  const side = Math.round(Math.max(w, h) * 1.4);
  const crop = await sharp(t.data, { raw: { width: t.width, height: t.height, channels: 3 } })
    .extract({
      left: Math.max(0, Math.round(x + w / 2 - side / 2)),
      top: Math.max(0, Math.round(y + h / 2 - side / 2)),
      width: side,
      height: side,
    })
    .png()
    .toBuffer();
  const sizes = Array.from({ length: 300 }, (_, i) => 70 + ((i * 7) % 41));
  const crops = await Promise.all(
    [...new Set(sizes)].map(async (s) => [s, await sharp(crop).resize(s, s).toBuffer()] as const),
  );
  const bySize = new Map(crops);
  const photo = path.join(tmp, 'crowd.png');
  await sharp({ create: { width: 2400, height: 1800, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .composite(
      sizes.map((s, i) => ({ input: bySize.get(s)!, left: (i % 20) * 120 + 5, top: Math.floor(i / 20) * 120 + 5 })),
    )
    .png()
    .toFile(photo);
  const all = await service.embedFaces(photo);
  assert.equal(all.faces.length, 300);
  assert.ok(all.faces.every((f) => f.embedding.length === 128));
  const top = await service.detectFaces(photo, { maxFaces: 50 });
  assert.equal(top.length, 50);
  const areas = all.faces.map((f) => f.box[2] * f.box[3]);
  assert.ok(
    top.every((f) => f.box[2] * f.box[3] >= areas[49]! - 1e-6),
    'the 50 largest',
  );
});

test('a photo without a face gives an empty list', async () => {
  const file = path.join(tmp, 'grey.png');
  await sharp(await encodePng(1600, 1200, [128, 128, 128])).toFile(file);
  assert.deepEqual(await service.detectFaces(file), []);
  const out = await service.embedFaces(file, { modelName: 'arcface' });
  assert.deepEqual([out.faces, out.modelName, out.dimensions], [[], 'arcface', 512]);
});

test('bad options are ValueError, a photo past the pixel limit ImageTooLargeError', async () => {
  await assert.rejects(
    service.detectFaces(sample(1), { minFaceSize: 0 }),
    (e: FaceembedError) => e.type === 'ValueError',
  );
  await assert.rejects(
    service.embedFaces(sample(1), { maxFaces: 1.5 }),
    (e: FaceembedError) => e.type === 'ValueError',
  );
  const small = new EmbeddingService({
    workers: 1,
    logger: createLogger('silent'),
    config: loadConfig({ FACEEMBED_MAX_IMAGE_PIXELS: '1000000' }),
  });
  try {
    await assert.rejects(small.embedFaces(sample(1)), (e: FaceembedError) => e.type === 'ImageTooLargeError');
  } finally {
    await small.close();
  }
});

test('a photo is split over the workers while no task waits: the same faces as in one task; with a backlog it runs whole', async () => {
  // The photos of the tests above: 6 faces on 24 MP, and 300 faces that many windows find twice.
  const photos = ['class.png', 'crowd.png'].map((name) => path.join(tmp, name));
  const split = new EmbeddingService({ workers: 2, threadsPerWorker: 1, logger: createLogger('silent') });
  // To 0.01 px: the two pools run the detector on different thread counts.
  const rounded = (faces: { box: Box; landmarks: number[][] }[]) =>
    faces.map((f) => [...f.box, ...f.landmarks.flat()].map((v) => Math.round(v * 100) / 100));
  try {
    await split.ready();
    for (const photo of photos) {
      const out = await split.detectFacesTimed(photo);
      assert.equal(out.timings.workers, 2, 'split over both workers');
      assert.ok((out.timings.network ?? 0) > 0);
      assert.deepEqual(rounded(out.faces), rounded(await service.detectFaces(photo)));
    }
    assert.deepEqual(
      rounded(await split.detectFaces(photos[1]!, { maxFaces: 50 })),
      rounded(await service.detectFaces(photos[1]!, { maxFaces: 50 })),
    );
    // The first photo's shares start at once, the second's wait in the queue: the third runs whole.
    const three = await Promise.all([photos[0]!, photos[0]!, photos[1]!].map((photo) => split.detectFacesTimed(photo)));
    assert.deepEqual(
      three.map((out) => out.timings.workers),
      [2, 2, 1],
    );
    assert.deepEqual(rounded(three[2]!.faces), rounded(await service.detectFaces(photos[1]!)));
  } finally {
    await split.close();
  }
});

test('a split photo past the pixel limit is ImageTooLargeError', async () => {
  const small = new EmbeddingService({
    workers: 2,
    logger: createLogger('silent'),
    config: loadConfig({ FACEEMBED_MAX_IMAGE_PIXELS: '1000000' }),
  });
  try {
    await small.ready();
    await assert.rejects(
      small.detectFacesTimed(path.join(tmp, 'class.png')),
      (e: FaceembedError) => e.type === 'ImageTooLargeError',
    );
  } finally {
    await small.close();
  }
});
