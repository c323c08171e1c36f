// Enrolment and identification over HTTP with the real embedder, on both databases: enrol an
// uploaded photo and an existing crop, identify every face of an upload (a group photo, and a
// tight crop too small for the whole-photo detector) and a stored crop, group filter, unknown
// faces, a session face enrolled by assignment, and every bad input (typed error, nothing written).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import sharp from 'sharp';
import { thresholdForFace } from '../../src/domain/face-threshold.js';
import { ATTENDANCE_MODEL_NAME } from '../../src/models/registry.js';
import { DB_TARGETS } from '../repositories/db-targets.js';
import { encodePng } from '../helpers/images.js';
import {
  assertError,
  buildTestApp,
  CROPS,
  FACES,
  form,
  startEmbedder,
  type TestApp,
  type TestEmbedder,
} from './helper.js';

const PERSONS = '/api/attendance/persons/';
const GROUPS = '/api/attendance/groups/';
const IDENTIFY = '/api/attendance/identify/';

let emb: TestEmbedder;
before(async () => {
  emb = await startEmbedder({ preload: ['facenet', 'arcface'] });
});
after(() => emb?.close());

type Box = [number, number, number, number];
interface IdentifiedFace {
  box: Box;
  threshold: number;
  person_id: number | null;
  similarity: number | null;
  matches: { person_id: number; name: string; similarity: number }[];
}

/** The answer's face at the same place as `box` (centres closest). */
const faceAt = (faces: IdentifiedFace[], box: Box): IdentifiedFace => {
  const centre = (b: Box) => [b[0] + b[2] / 2, b[1] + b[3] / 2] as const;
  const [x, y] = centre(box);
  const dist = (f: IdentifiedFace) => Math.hypot(centre(f.box)[0] - x, centre(f.box)[1] - y);
  return faces.reduce((best, f) => (dist(f) < dist(best) ? f : best));
};

const count = async (t: TestApp, table: 'face_crops' | 'face_embeddings'): Promise<number> => {
  const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(t.db);
  return Number(r.rows[0]!.n);
};

for (const target of DB_TARGETS) {
  describe(`enrolment and identification over HTTP (${target.name})`, { skip: target.skip }, () => {
    let t: TestApp;
    const photo = (name: string) => readFile(path.join(t.mediaRoot, name));
    const upload = async (url: string, file: string, fields: Record<string, string> = {}) =>
      t.app.inject({
        method: 'POST',
        url,
        ...(await form({ ...fields, image: { data: await photo(file), filename: path.basename(file) } })),
      });
    const json = (method: 'POST' | 'GET' | 'DELETE' | 'PUT', url: string, payload?: object) =>
      t.app.inject({ method, url, ...(payload && { payload }) });
    before(async () => {
      t = await buildTestApp(target, emb.embedder);
    });
    after(() => t?.close());

    test('identify with an empty gallery: 200, every face of the photo unknown', async () => {
      const res = await upload(IDENTIFY, FACES.a1);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      const model = emb.embedder.resolveModel(ATTENDANCE_MODEL_NAME);
      assert.equal(body.model_name, ATTENDANCE_MODEL_NAME, 'the attendance default');
      assert.equal(body.model_true_name, model.name);
      assert.equal(body.faces.length, 3, 'sample 1 shows three people');
      for (const face of body.faces) {
        assert.deepEqual(
          { ...face, box: null, score: null, threshold: null },
          { box: null, score: null, threshold: null, person_id: null, similarity: null, matches: [] },
        );
        assert.equal(face.threshold, thresholdForFace(model, face.box[2]), 'the threshold for a face of its width');
        assert.equal(face.box.length, 4);
        assert.ok(face.score > 0.5);
      }
    });

    test('enrol a photo (the face named, faces counted) and an existing crop; identify finds them', async () => {
      const a = (await json('POST', PERSONS, { name: 'A' })).json();
      const b = (await json('POST', PERSONS, { name: 'B' })).json();
      // Sample 1 shows three people of one size: ambiguous until the form names one.
      const ambiguous = await upload(`${PERSONS}${a.id}/faces/`, FACES.a1);
      assertError(ambiguous, 422, 'ValidationError');
      assert.equal(ambiguous.json().error.details.faces.length, 3, ambiguous.body);
      const res = await upload(`${PERSONS}${a.id}/faces/`, FACES.a1, { face_index: '0' });
      assert.equal(res.statusCode, 201, res.body);
      const enrolled = res.json();
      assert.equal(enrolled.person_id, a.id);
      assert.deepEqual([enrolled.faces_detected, enrolled.faces_seen, enrolled.face_index], [3, 3, 0]);
      assert.deepEqual(
        enrolled.box.map((v: number) => Math.round(v * 10) / 10),
        ambiguous.json().error.details.faces[0],
        'the face listed first',
      );
      assert.equal(enrolled.box.length, 4);
      const crop = (await json('GET', `${CROPS}${enrolled.face_crop_id}/`)).json();
      assert.equal(crop.person_id, a.id);
      assert.deepEqual(crop.box, enrolled.box);
      assert.deepEqual(crop.embeddings.map((e: { model_name: string }) => e.model_name).sort(), [
        'arcface',
        'facenet',
        'hse-faceres',
      ]);

      const registered = (await json('POST', CROPS, { image_path: FACES.a2 })).json();
      const viaCrop = await json('POST', `${PERSONS}${b.id}/faces/`, { face_crop_id: registered.id });
      assert.equal(viaCrop.statusCode, 201, viaCrop.body);
      assert.deepEqual(viaCrop.json(), { face_crop_id: registered.id, person_id: b.id, box: null });
      assert.equal((await json('GET', `${PERSONS}${b.id}/`)).json().face_count, 1);
      assert.deepEqual((await json('GET', `${PERSONS}${b.id}/`)).json().enrolment, {
        photos: 1,
        strength: 'weak',
        reasons: ['one_photo'],
      });
      const faces = (await json('GET', `${PERSONS}${b.id}/faces/`)).json();
      assert.deepEqual(
        faces.results.map((c: { id: number }) => c.id),
        [registered.id],
      );

      // Every face of the photo is answered: the enrolled one is A, the two others nobody.
      const enrolledBox = enrolled.box as Box;
      for (const model of ['facenet', 'arcface', 'hse-faceres']) {
        const found = (await upload(IDENTIFY, FACES.a1, { model_name: model, top_k: '5' })).json();
        assert.equal(found.faces.length, 3, JSON.stringify(found));
        const face = faceAt(found.faces, enrolledBox);
        assert.equal(face.person_id, a.id, JSON.stringify(found));
        assert.ok(face.similarity! >= face.threshold);
        assert.deepEqual(face.matches.map((m) => m.person_id).sort(), [a.id, b.id].sort());
        assert.equal(face.matches[0]!.name, 'A');
        for (const other of found.faces.filter((f: IdentifiedFace) => f !== face))
          assert.equal(other.person_id, null, JSON.stringify(found));
      }
      // A small crop of that face (56 px, the face about 37 px of it): the whole-photo detector
      // finds no face there, the crop path does.
      const [x, y, w, h] = enrolledBox;
      const side = Math.round(Math.max(w, h) * 1.5);
      const tight = await sharp(await photo(FACES.a1))
        .extract({
          left: Math.round(x + w / 2 - side / 2),
          top: Math.round(y + h / 2 - side / 2),
          width: side,
          height: side,
        })
        .resize(56, 56)
        .jpeg({ quality: 90 })
        .toBuffer();
      const small = await t.app.inject({
        method: 'POST',
        url: IDENTIFY,
        ...(await form({ image: { data: tight, filename: 'tight.jpg' } })),
      });
      assert.equal(small.statusCode, 200, small.body);
      assert.equal(small.json().faces.length, 1, small.body);
      assert.equal(small.json().faces[0].person_id, a.id, small.body);
      const byCrop = (await json('POST', IDENTIFY, { face_crop_id: registered.id, top_k: 1 })).json();
      assert.equal(byCrop.faces[0].person_id, b.id);
      assert.equal(byCrop.faces[0].matches.length, 1);
      // Group filter: only members are candidates.
      const g = (await json('POST', GROUPS, { name: 'only B' })).json();
      await json('PUT', `${GROUPS}${g.id}/members/`, { person_ids: [b.id] });
      const inGroup = (await upload(IDENTIFY, FACES.a1, { group_id: String(g.id) })).json();
      for (const face of inGroup.faces as IdentifiedFace[]) {
        assert.deepEqual(
          face.matches.map((m) => m.person_id),
          [b.id],
        );
        assert.notEqual(face.person_id, a.id);
      }
      // The threshold decides: at -1 anyone is accepted, above the best similarity no one is.
      const lax = (await upload(IDENTIFY, FACES.a1, { group_id: String(g.id), threshold: '-1' })).json();
      assert.ok(lax.faces.every((f: IdentifiedFace) => f.person_id === b.id));
      assert.equal(lax.threshold, -1);
      const best = Math.max(...lax.faces.map((f: IdentifiedFace) => f.similarity!));
      const strict = (
        await upload(IDENTIFY, FACES.a1, { group_id: String(g.id), threshold: String(best + 0.001) })
      ).json();
      for (const face of strict.faces as IdentifiedFace[]) {
        assert.equal(face.person_id, null);
        assert.equal(face.matches[0]!.person_id, b.id);
      }

      // Un-enrol B's face, delete A: the next identify cannot return either.
      assert.equal((await json('DELETE', `${PERSONS}${b.id}/faces/${registered.id}/`)).statusCode, 204);
      assertError(await json('DELETE', `${PERSONS}${b.id}/faces/${registered.id}/`), 404, 'NotFoundError');
      assert.equal((await json('DELETE', `${PERSONS}${a.id}/`)).statusCode, 204);
      const after = (await upload(IDENTIFY, FACES.a1)).json();
      assert.equal(after.faces.length, 3);
      for (const face of after.faces as IdentifiedFace[]) {
        assert.deepEqual(face.matches, []);
        assert.equal(face.person_id, null);
      }
    });

    test('a crop linked at registration and embedded later joins the gallery', async () => {
      const created = (await json('POST', CROPS, { image_path: FACES.a3, person_id: `late-${target.name}` })).json();
      await json('POST', `${CROPS}${created.id}/generate-embedding/`, { model_name: 'facenet' });
      const found = (await json('POST', IDENTIFY, { face_crop_id: created.id, model_name: 'facenet' })).json();
      assert.equal(found.faces[0].person_id, created.person_id);
      assert.equal((await json('DELETE', `${CROPS}${created.id}/`)).statusCode, 204);
      const other = (await json('POST', CROPS, { image_path: FACES.a3 })).json();
      const gone = (await json('POST', IDENTIFY, { face_crop_id: other.id, model_name: 'facenet' })).json();
      assert.ok(!gone.faces[0].matches.some((m: { person_id: number }) => m.person_id === created.person_id));
    });

    test('enrolment embeddings of another model version are refused, not compared; re-embedding clears it', async () => {
      const p = (await json('POST', PERSONS, { name: `stale-${target.name}` })).json();
      const crop = (await upload(`${PERSONS}${p.id}/faces/`, FACES.a2, { face_index: '0' })).json();
      // As after an upgrade of the weights: the stored vector is of a version the model no longer has.
      await t.db
        .updateTable('face_embeddings')
        .set({ model_version: 'older-weights' })
        .where('face_crop_id', '=', crop.face_crop_id)
        .where('model_name', '=', 'faceplugin-mobilefacenet512')
        .execute();
      const refused = await upload(IDENTIFY, FACES.a1, { model_name: 'arcface' });
      assertError(refused, 409, 'ConflictError');
      const error = refused.json().error;
      assert.match(error.message, /older-weights/);
      assert.match(error.message, /faceembed reembed --model faceplugin-mobilefacenet512 --job/);
      assert.deepEqual(error.details.stale_versions, ['older-weights']);
      // Other models are not concerned.
      assert.equal((await upload(IDENTIFY, FACES.a1, { model_name: 'facenet' })).statusCode, 200);
      // Re-embedding without force (what the job the message names runs, per crop) replaces the stale vector.
      const batch = await json('POST', `${CROPS}generate-embeddings-batch/`, {
        face_crop_ids: [crop.face_crop_id],
        model_name: 'arcface',
      });
      assert.equal(batch.json().results[0].status, 'generated', batch.body);
      const again = await upload(IDENTIFY, FACES.a1, { model_name: 'arcface' });
      assert.equal(again.statusCode, 200, again.body);
      assert.equal((await json('DELETE', `${PERSONS}${p.id}/`)).statusCode, 204);
    });

    test('bad input: each a typed error, nothing written', async () => {
      const p = (await json('POST', PERSONS, { name: 'bad input' })).json();
      const crops = await count(t, 'face_crops');
      const embeddings = await count(t, 'face_embeddings');
      const uploads = () => readdir(path.join(t.mediaRoot, 'uploads')).catch(() => [] as string[]);
      const files = (await uploads()).length;
      const blank = await encodePng(320, 240, [128, 128, 128]);
      const noFace = await t.app.inject({
        method: 'POST',
        url: `${PERSONS}${p.id}/faces/`,
        ...(await form({ image: { data: blank, filename: 'wall.png' } })),
      });
      assertError(noFace, 422, 'NoFaceDetectedError');
      assertError(await upload(`${PERSONS}${p.id}/faces/`, FACES.notImage), 422, 'ImageDecodeError');
      assertError(await upload(`${PERSONS}999999/faces/`, FACES.a1), 404, 'NotFoundError');
      assertError(await json('POST', `${PERSONS}${p.id}/faces/`, { face_crop_id: 999_999 }), 404, 'NotFoundError');
      assertError(await json('POST', `${PERSONS}${p.id}/faces/`, {}), 400, 'ValidationError');
      assertError(await upload(IDENTIFY, FACES.notImage), 422, 'ImageDecodeError');
      assertError(await upload(IDENTIFY, FACES.a1, { group_id: '999999' }), 404, 'NotFoundError');
      assertError(await upload(IDENTIFY, FACES.a1, { top_k: 'many' }), 400, 'ValidationError');
      assertError(await upload(IDENTIFY, FACES.a1, { model_name: 'nope' }), 400, 'ValueError');
      assertError(await json('POST', IDENTIFY, { face_crop_id: 999_999 }), 404, 'NotFoundError');
      assertError(await json('POST', IDENTIFY, { face_crop_id: 1, top_k: 0 }), 400, 'ValidationError');
      assertError(await json('POST', IDENTIFY, {}), 400, 'ValidationError');
      assert.equal(await count(t, 'face_crops'), crops);
      assert.equal(await count(t, 'face_embeddings'), embeddings);
      assert.equal((await uploads()).length, files);
      assert.equal((await json('GET', `${PERSONS}${p.id}/`)).json().face_count, 0);

      // A crop already enrolled for someone else is a conflict.
      const q = (await json('POST', PERSONS, { name: 'owner' })).json();
      const c = (await json('POST', CROPS, { image_path: FACES.a2 })).json();
      assert.equal((await json('POST', `${PERSONS}${q.id}/faces/`, { face_crop_id: c.id })).statusCode, 201);
      assertError(await json('POST', `${PERSONS}${p.id}/faces/`, { face_crop_id: c.id }), 409, 'ConflictError');
    });

    test('a session face assigned with enrol joins the gallery at once', async () => {
      const c = (await json('POST', PERSONS, { name: `C ${target.name}` })).json();
      const g = (await json('POST', GROUPS, { name: `class of C ${target.name}` })).json();
      await json('PUT', `${GROUPS}${g.id}/members/`, { person_ids: [c.id] });
      const session = (await json('POST', '/api/attendance/sessions/', { group_id: g.id })).json();
      const photoRes = await upload(`/api/attendance/sessions/${session.id}/photos/`, FACES.a3);
      assert.equal(photoRes.statusCode, 201, photoRes.body);
      const face = photoRes.json().faces[0];
      const before = (await json('POST', IDENTIFY, { face_crop_id: face.face_crop_id })).json();
      assert.notEqual(before.faces[0].person_id, c.id);
      const assigned = await json('POST', `/api/attendance/sessions/${session.id}/faces/${face.face_crop_id}/assign/`, {
        person_id: c.id,
        enrol: true,
      });
      assert.equal(assigned.statusCode, 200, assigned.body);
      const found = (await json('POST', IDENTIFY, { face_crop_id: face.face_crop_id })).json();
      assert.equal(found.faces[0].person_id, c.id, JSON.stringify(found));
      assert.ok(found.faces[0].similarity > 0.999);
    });

    test('gallery figures appear in /metrics', async () => {
      const text = (await t.app.inject({ url: '/metrics' })).body;
      assert.match(text, /faceembed_gallery_faces\{model="faceapi-resnet128"\} \d+/);
      assert.match(text, /faceembed_gallery_memory_bytes\{model="faceapi-resnet128"\} [1-9]\d*/);
      const doc = (await t.app.inject({ url: '/openapi.json' })).json();
      for (const p of ['/api/attendance/persons/', '/api/attendance/persons/{id}/faces/', '/api/attendance/identify/'])
        assert.ok(doc.paths[p], `${p} in OpenAPI`);
      assert.ok(doc.paths['/api/attendance/groups/{id}/members/'].put);
    });
  });
}
