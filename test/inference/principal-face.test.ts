// The face a photo stands for, with the real detectors and a real model: a scene composed from
// the demo photos with a confident central face and a larger face at the edge. The crop path
// (embed, 'auto') and the whole-photo scan both choose the central one, the answer says how many
// faces were seen, and a face named by the caller is embedded instead when asked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Box } from '../../src/domain/face.js';
import { rankFaces } from '../../src/domain/principal-face.js';
import { cosineSimilarity } from '../../src/domain/vector.js';
import { createLogger } from '../../src/logging/logger.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import { centralAndEdge, portrait } from '../helpers/composed-faces.js';

let service: EmbeddingService;
let dir: string;
const files: Record<string, string> = {};

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-principal-'));
  const images = {
    scene: await centralAndEdge('a', 'b'),
    a: await portrait('a'),
    b: await portrait('b'),
  };
  for (const [name, data] of Object.entries(images)) {
    files[name] = path.join(dir, `${name}.jpg`);
    await writeFile(files[name]!, data);
  }
  // arcface: facenet's margin between people is too thin to tell the two faces apart reliably.
  service = new EmbeddingService({ modelName: 'arcface', workers: 1, logger: createLogger('silent') });
  await service.ready();
});
after(async () => {
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

const centre = (b: Box) => [b[0] + b[2] / 2, b[1] + b[3] / 2] as const;

test('two faces, the larger at the edge: the scan sees both and ranks the central one first', async () => {
  const faces = await service.detectFaces(files.scene!);
  assert.equal(faces.length, 2, JSON.stringify(faces));
  const bySize = [...faces].sort((x, y) => y.box[2] * y.box[3] - x.box[2] * x.box[3]);
  assert.ok(centre(bySize[0]!.box)[0] < 200, 'the largest face is the edge one (the old rule chose it)');
  const principal = faces[rankFaces(faces, { width: 800, height: 400 })[0]!]!;
  assert.ok(Math.abs(centre(principal.box)[0] - 400) < 40, JSON.stringify(principal.box));
});

test("embed 'auto' uses the central face, says two were seen, and its vector is that person's", async () => {
  const e = await service.generateEmbedding(files.scene!);
  assert.equal(e.face.facesSeen, 2);
  assert.equal(e.face.faceIndex, 0);
  const [cx, cy] = centre(e.face.box!);
  assert.ok(Math.abs(cx - 400) < 40 && Math.abs(cy - 200) < 40, JSON.stringify(e.face.box));
  const a = await service.generateEmbedding(files.a!);
  const b = await service.generateEmbedding(files.b!);
  const withA = cosineSimilarity(e.embedding, a.embedding);
  const withB = cosineSimilarity(e.embedding, b.embedding);
  const threshold = service.resolveModel('arcface').threshold;
  assert.ok(withA >= threshold, `central face vs its portrait: ${withA}`);
  assert.ok(withB < threshold, `central face vs the edge person's portrait: ${withB}`);
  assert.deepEqual([a.face.facesSeen, a.face.faceIndex], [1, 0]);
});

test('a face named by the caller is embedded as given, without a detection of its own', async () => {
  const faces = await service.detectFaces(files.scene!);
  const edge = faces.find((f) => centre(f.box)[0] < 200)!;
  const e = await service.generateEmbedding(files.scene!, { face: edge });
  assert.deepEqual(
    e.face.box!.map((v) => Math.round(v)),
    edge.box.map((v) => Math.round(v)),
  );
  assert.equal(e.face.facesSeen, undefined, 'the caller counted the faces');
  const b = await service.generateEmbedding(files.b!);
  const threshold = service.resolveModel('arcface').threshold;
  assert.ok(cosineSimilarity(e.embedding, b.embedding) >= threshold, 'the edge face is the other person');
});
