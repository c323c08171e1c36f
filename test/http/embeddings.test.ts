// Embedding routes over HTTP with the real EmbeddingService (one worker): single generation,
// reuse and forced regeneration, stale versions, batches with every kind of bad item,
// concurrent requests for one crop, and similarity.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { DB_TARGETS } from '../repositories/db-targets.js';
import { assertError, buildTestApp, CROPS, FACES, startEmbedder, type TestApp, type TestEmbedder } from './helper.js';

let emb: TestEmbedder;
before(async () => {
  emb = await startEmbedder();
});
after(() => emb?.close());

const rowCount = async (t: TestApp, cropId: number): Promise<number> => {
  const r = await sql<{
    n: number | string;
  }>`select count(*) as n from face_embeddings where face_crop_id = ${cropId}`.execute(t.db);
  return Number(r.rows[0]!.n);
};

for (const target of DB_TARGETS) {
  describe(`embeddings over HTTP (${target.name})`, { skip: target.skip }, () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(target, emb.embedder);
    });
    after(() => t?.close());

    const register = async (imagePath: string): Promise<number> => {
      const res = await t.app.inject({ method: 'POST', url: CROPS, payload: { image_path: imagePath } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id;
    };
    const generate = (id: number | string, payload?: object) =>
      t.app.inject({ method: 'POST', url: `${CROPS}${id}/generate-embedding/`, ...(payload ? { payload } : {}) });
    const batch = (payload: object) =>
      t.app.inject({ method: 'POST', url: `${CROPS}generate-embeddings-batch/`, payload });

    test('generate, reuse, force: one row throughout, model_name as sent, model_true_name beside it', async () => {
      const id = await register(FACES.a1);
      const model = emb.embedder.resolveModel('facenet');

      const first = await generate(id, { model_name: 'facenet' });
      assert.equal(first.statusCode, 200, first.body);
      const a = first.json();
      assert.deepEqual(Object.keys(a).sort(), [
        'dimensions',
        'duration_ms',
        'embedding',
        'face_crop_id',
        'model_name',
        'model_true_name',
        'model_version',
        'regenerated',
      ]);
      assert.deepEqual(
        [a.face_crop_id, a.model_name, a.model_true_name, a.model_version, a.dimensions, a.regenerated],
        [id, 'facenet', 'faceapi-resnet128', model.version, model.dimensions, true],
      );
      assert.equal(a.embedding.length, model.dimensions);
      assert.ok(a.embedding.every(Number.isFinite) && a.duration_ms >= 0);

      const again = (await generate(id, { model_name: 'facenet', force_regenerate: false })).json();
      assert.equal(again.regenerated, false);
      assert.deepEqual(again.embedding, a.embedding, 'the stored vector, bit for bit');

      // The model's own name reaches the same stored row and is echoed back as sent.
      const byName = (await generate(id, { model_name: model.name })).json();
      assert.deepEqual(
        [byName.model_name, byName.model_true_name, byName.regenerated],
        [model.name, model.name, false],
      );

      const forced = (await generate(id, { model_name: 'facenet', force_regenerate: true })).json();
      assert.equal(forced.regenerated, true);
      assert.equal(forced.model_version, model.version);
      assert.equal(await rowCount(t, id), 1);

      // The crop's detail lists it under the name the client knows ('facenet'), true name beside it.
      const detail = (await t.app.inject({ url: `${CROPS}${id}/` })).json();
      assert.deepEqual(
        detail.embeddings.map(
          (e: { model_name: string; model_true_name: string; model_version: string; dimensions: number }) => [
            e.model_name,
            e.model_true_name,
            e.model_version,
            e.dimensions,
          ],
        ),
        [['facenet', model.name, model.version, model.dimensions]],
      );
    });

    test('a bare POST uses the defaults (facenet, no force)', async () => {
      const id = await register(FACES.a2);
      const res = await generate(id);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual([res.json().model_name, res.json().regenerated], ['facenet', true]);
      assert.equal((await generate(id)).json().regenerated, false);
    });

    test('a stale model version is regenerated', async () => {
      const id = await register(FACES.a3);
      await generate(id);
      await t.db
        .updateTable('face_embeddings')
        .set({ model_version: 'old-weights' })
        .where('face_crop_id', '=', id)
        .execute();
      const res = (await generate(id)).json();
      assert.equal(res.regenerated, true);
      assert.equal(res.model_version, emb.embedder.resolveModel('facenet').version);
      assert.equal(await rowCount(t, id), 1);
    });

    test('refusals: types are not coerced, unknown model 400, missing crop 404, bad files 422', async () => {
      const id = await register(FACES.a1);
      for (const body of [
        { force_regenerate: 'true' },
        { force_regenerate: 1 },
        { model_name: 128 },
        { model_name: '' },
        { model_name: null },
      ]) {
        assertError(await generate(id, body), 400, 'ValidationError');
      }
      assertError(await generate(id, { model_name: 'vgg-face' }), 400, 'ValueError');
      assertError(await generate(999_999), 404, 'NotFoundError');
      assertError(await generate('abc'), 400, 'ValidationError');

      const corrupt = await register(FACES.truncated);
      assertError(await generate(corrupt), 422, 'ImageDecodeError');
      const gone = await register(FACES.png);
      await rm(path.join(t.mediaRoot, FACES.png));
      const err = assertError(await generate(gone), 422, 'FileNotFoundError');
      assert.ok(!err.message.includes(t.mediaRoot), 'no server paths in the message');
      assert.equal((await rowCount(t, corrupt)) + (await rowCount(t, gone)), 0);
    });

    test('concurrent requests for one crop never create two rows', async () => {
      const id = await register(FACES.a2);
      const results = await Promise.all([
        ...Array.from({ length: 4 }, () => generate(id)),
        ...Array.from({ length: 2 }, () => generate(id, { force_regenerate: true })),
        batch({ face_crop_ids: [id], force_regenerate: true }),
      ]);
      for (const r of results) assert.equal(r.statusCode, 200, r.body);
      assert.equal(await rowCount(t, id), 1);
      const vectors = results.slice(0, 6).map((r) => JSON.stringify(r.json().embedding));
      assert.equal(new Set(vectors).size, 1, 'every answer carries the same vector');
    });

    test('batch: order kept, duplicates once, every bad item fails alone', async () => {
      const ok1 = await register(FACES.a1);
      const ok2 = await register(FACES.a3);
      const corrupt = await register(FACES.truncated);
      const notImage = await register(FACES.a2);
      // The file is replaced by text after registration: only the embedding step can notice.
      await t.db.updateTable('face_crops').set({ image_path: FACES.notImage }).where('id', '=', notImage).execute();
      const missingFile = await register(FACES.a2);
      await t.db
        .updateTable('face_crops')
        .set({ image_path: 'faces/deleted.jpg' })
        .where('id', '=', missingFile)
        .execute();

      const ids = [ok2, 999_999, ok1, corrupt, ok2, missingFile, notImage, ok1];
      const res = await batch({ face_crop_ids: ids, model_name: 'facenet', force_regenerate: true });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.deepEqual([body.model_name, body.model_true_name], ['facenet', 'faceapi-resnet128']);
      const summary = body.results.map((r: { face_crop_id: number; status: string; error?: { type: string } }) => [
        r.face_crop_id,
        r.status,
        r.error?.type,
      ]);
      assert.deepEqual(summary, [
        [ok2, 'generated', undefined],
        [999_999, 'failed', 'NotFoundError'],
        [ok1, 'generated', undefined],
        [corrupt, 'failed', 'ImageDecodeError'],
        [missingFile, 'failed', 'FileNotFoundError'],
        [notImage, 'failed', 'ImageDecodeError'],
      ]);
      assert.deepEqual(body.summary, { generated: 2, existing: 0, failed: 4 });
      for (const r of body.results) if (r.error) assert.deepEqual(Object.keys(r.error).sort(), ['message', 'type']);

      const second = (await batch({ face_crop_ids: [ok1, ok2] })).json();
      assert.deepEqual(
        second.results.map((r: { status: string }) => r.status),
        ['existing', 'existing'],
      );
      assert.deepEqual(second.summary, { generated: 0, existing: 2, failed: 0 });
      assert.equal(await rowCount(t, ok1), 1);
    });

    test('batch validation: 1..1000 positive integers, typed flags, known model', async () => {
      const bad = [
        {},
        { face_crop_ids: [] },
        { face_crop_ids: Array.from({ length: 1001 }, (_, i) => i + 1) },
        { face_crop_ids: [0] },
        { face_crop_ids: [-3] },
        { face_crop_ids: ['1'] },
        { face_crop_ids: [1.5] },
        { face_crop_ids: 1 },
        { face_crop_ids: [1], force_regenerate: 'yes' },
        { face_crop_ids: [1], model_name: 5 },
        { face_crop_ids: [2_147_483_648] },
      ];
      for (const body of bad) assertError(await batch(body), 400, 'ValidationError');
      assertError(await batch({ face_crop_ids: [1], model_name: 'nope' }), 400, 'ValueError');
      const big = await batch({ face_crop_ids: Array.from({ length: 1000 }, (_, i) => 500_000 + i) });
      assert.equal(big.statusCode, 200, big.body);
      assert.equal(big.json().summary.failed, 1000);
    });

    test('similarity: same photo ~1 and verified; different photos lower; threshold from the model', async () => {
      const a = await register(FACES.a1);
      const aCopy = await register(FACES.a1);
      const b = await register(FACES.a3);
      const url = '/api/attendance/similarity/';
      const model = emb.embedder.resolveModel('facenet');

      const same = await t.app.inject({
        method: 'POST',
        url,
        payload: { face_crop_ids: [a, aCopy], model_name: 'facenet' },
      });
      assert.equal(same.statusCode, 200, same.body);
      assert.ok(same.json().similarity > 0.999, same.body);
      assert.deepEqual(
        [same.json().threshold, same.json().verified, same.json().model_name, same.json().model_true_name],
        [model.threshold, true, 'facenet', 'faceapi-resnet128'],
      );

      const diff = (
        await t.app.inject({ method: 'POST', url: url.slice(0, -1), payload: { face_crop_ids: [a, b] } })
      ).json();
      assert.ok(diff.similarity < same.json().similarity && diff.similarity >= -1);
      assert.equal(diff.verified, diff.similarity >= model.threshold);
      assert.equal(await rowCount(t, b), 1, 'the missing embedding was generated and kept');

      assertError(await t.app.inject({ method: 'POST', url, payload: { face_crop_ids: [a] } }), 400, 'ValidationError');
      assertError(
        await t.app.inject({ method: 'POST', url, payload: { face_crop_ids: [a, b, a] } }),
        400,
        'ValidationError',
      );
      assertError(
        await t.app.inject({ method: 'POST', url, payload: { face_crop_ids: [a, 999_999] } }),
        404,
        'NotFoundError',
      );
      assertError(
        await t.app.inject({ method: 'POST', url, payload: { face_crop_ids: [a, b], model_name: 'x' } }),
        400,
        'ValueError',
      );
    });

    test('metrics count embeddings by model and outcome', async () => {
      const text = (await t.app.inject({ url: '/metrics' })).body;
      const model = emb.embedder.resolveModel('facenet').name;
      for (const outcome of ['generated', 'existing', 'failed']) {
        assert.match(text, new RegExp(`faceembed_embeddings_total\\{model="${model}",outcome="${outcome}"`));
      }
      assert.match(text, /faceembed_pool_workers 1\b/);
    });
  });
}
