import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { decodeEmbedding, encodeEmbedding, EmbeddingRepository } from '../../src/repositories/embedding.repository.js';
import { FaceCropRepository } from '../../src/repositories/face-crop.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { DB_TARGETS, type OpenedDb } from './db-targets.js';

test('embeddings are little-endian float32 bytes', () => {
  const bytes = encodeEmbedding(new Float32Array([1, -2.5]));
  assert.deepEqual([...bytes], [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]);
  assert.deepEqual(decodeEmbedding(bytes), new Float32Array([1, -2.5]));
  // A view at an odd offset into a larger buffer decodes the same.
  const shifted = Buffer.concat([Buffer.from([9]), bytes]).subarray(1);
  assert.deepEqual(decodeEmbedding(shifted), new Float32Array([1, -2.5]));
  assert.throws(() => decodeEmbedding(new Uint8Array(5)), RangeError);
});

const vector = (seed: number, n = 128) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i));

for (const target of DB_TARGETS) {
  describe(`EmbeddingRepository (${target.name})`, { skip: target.skip }, () => {
    let opened: OpenedDb;
    let repo: EmbeddingRepository;
    let crops: FaceCropRepository;
    const newCrop = async () =>
      (await crops.create({ imagePath: 'x.jpg', width: 1, height: 1, sha256: '0'.repeat(64) })).id;
    before(async () => {
      opened = await target.open();
      repo = new EmbeddingRepository(opened.db);
      crops = new FaceCropRepository(opened.db);
    });
    after(() => opened?.close());

    test('upsert inserts, then replaces in place; the stored bytes are the encoded vector', async () => {
      const id = await newCrop();
      await repo.upsert({ faceCropId: id, modelName: 'facenet', modelVersion: 'v1', embedding: vector(1) });
      const first = await repo.find(id, 'facenet');
      assert.deepEqual(first?.embedding, vector(1));
      assert.equal(first?.dimensions, 128);
      await repo.upsert({ faceCropId: id, modelName: 'facenet', modelVersion: 'v2', embedding: vector(2, 64) });
      const second = await repo.find(id, 'facenet');
      assert.equal(second?.modelVersion, 'v2');
      assert.equal(second?.dimensions, 64);
      assert.deepEqual(second?.embedding, vector(2, 64));
      assert.equal(await repo.count(id), 1);
      const raw = await sql<{
        embedding: Uint8Array;
      }>`select embedding from face_embeddings where face_crop_id = ${id}`.execute(opened.db);
      assert.deepEqual(Buffer.from(raw.rows[0]!.embedding), encodeEmbedding(vector(2, 64)));
    });

    test('concurrent upserts for one crop and model leave exactly one row', async () => {
      const id = await newCrop();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          repo.upsert({ faceCropId: id, modelName: 'facenet', modelVersion: `v${i}`, embedding: vector(i) }),
        ),
      );
      assert.equal(await repo.count(id), 1);
      const row = await repo.find(id, 'facenet');
      const i = Number(row!.modelVersion.slice(1));
      assert.deepEqual(row!.embedding, vector(i), "the row holds one writer's vector whole");
    });

    test('one row per model; listForCrop and findVersions see them', async () => {
      const id = await newCrop();
      const other = await newCrop();
      await repo.upsert({ faceCropId: id, modelName: 'facenet', modelVersion: 'f1', embedding: vector(3) });
      await repo.upsert({ faceCropId: id, modelName: 'arcface', modelVersion: 'a1', embedding: vector(4, 1024) });
      await repo.upsert({ faceCropId: other, modelName: 'facenet', modelVersion: 'f0', embedding: vector(5) });
      assert.deepEqual(
        (await repo.listForCrop(id)).map((e) => [e.modelName, e.modelVersion, e.dimensions]),
        [
          ['arcface', 'a1', 1024],
          ['facenet', 'f1', 128],
        ],
      );
      assert.deepEqual(
        await repo.findVersions([id, other, 999_999], 'facenet'),
        new Map([
          [id, 'f1'],
          [other, 'f0'],
        ]),
      );
      assert.equal(await repo.find(id, 'nomodel'), undefined);
    });

    test('overlapping batch writes in opposite orders all commit (no deadlock), one row each', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 20; i++) ids.push(await newCrop());
      const rows = (order: number[], v: string) =>
        order.map((id) => ({ faceCropId: id, modelName: 'facenet', modelVersion: v, embedding: vector(id) }));
      await Promise.all(
        Array.from({ length: 8 }, (_, k) => repo.upsertMany(rows(k % 2 ? [...ids].reverse() : ids, `v${k}`))),
      );
      for (const id of ids) assert.equal(await repo.count(id), 1);
    });

    test('upsertMany is all or nothing: a row for a missing crop rolls back the others', async () => {
      const id = await newCrop();
      await assert.rejects(
        repo.upsertMany([
          { faceCropId: id, modelName: 'facenet', modelVersion: 'v', embedding: vector(6) },
          { faceCropId: 999_999, modelName: 'facenet', modelVersion: 'v', embedding: vector(7) },
        ]),
      );
      assert.equal(await repo.count(id), 0);
      await repo.upsertMany([{ faceCropId: id, modelName: 'facenet', modelVersion: 'v', embedding: vector(6) }]);
      assert.equal(await repo.count(id), 1);
    });

    test('upsertMany: one statement for the chunk; a key given twice keeps its last row', async () => {
      const id = await newCrop();
      await repo.upsertMany([
        { faceCropId: id, modelName: 'facenet', modelVersion: 'first', embedding: vector(1) },
        { faceCropId: id, modelName: 'arcface', modelVersion: 'a', embedding: vector(2) },
        { faceCropId: id, modelName: 'facenet', modelVersion: 'last', embedding: vector(3) },
      ]);
      assert.equal(await repo.count(id), 2);
      const stored = await repo.find(id, 'facenet');
      assert.equal(stored?.modelVersion, 'last');
      assert.deepEqual(Array.from(stored!.embedding), Array.from(vector(3)));
    });

    test('findEnrolled: the linked crops with an embedding of the model version, among ids or of a person', async () => {
      const persons = new PersonRepository(opened.db);
      const p = (await persons.create({ name: 'enrolled' })).id;
      const q = (await persons.create({ name: 'other' })).id;
      const [mine, stale, unlinked, theirs] = [await newCrop(), await newCrop(), await newCrop(), await newCrop()];
      for (const id of [mine, stale, unlinked, theirs])
        await repo.upsert({
          faceCropId: id,
          modelName: 'facenet',
          modelVersion: id === stale ? 'old' : 'v1',
          embedding: vector(id),
        });
      await crops.setPerson(mine, p);
      await crops.setPerson(stale, p);
      await crops.setPerson(theirs, q);
      const ids = (rows: { faceCropId: number; personId: number }[]) => rows.map((r) => [r.faceCropId, r.personId]);
      assert.deepEqual(ids(await repo.findEnrolled('facenet', 'v1', { personId: p })), [[mine, p]]);
      assert.deepEqual(
        ids(await repo.findEnrolled('facenet', 'v1', { faceCropIds: [mine, stale, unlinked, theirs, 999_999] })),
        [
          [mine, p],
          [theirs, q],
        ],
      );
      assert.deepEqual(await repo.findEnrolled('facenet', 'v1', { faceCropIds: [] }), []);
      assert.deepEqual(await repo.findEnrolled('arcface', 'v1', { personId: p }), []);
      const [row] = await repo.findEnrolled('facenet', 'v1', { faceCropIds: [mine] });
      assert.deepEqual(Array.from(row!.embedding), Array.from(vector(mine)));
    });
  });
}
