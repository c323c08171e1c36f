// Attendance sessions over HTTP on both databases, with the real embedder: class photos of
// the shared dataset's people, enrolment through face-crop uploads, review, CSV, audit, bad
// input leaving nothing behind, and concurrent uploads.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { thresholdForFace } from '../../src/domain/face-threshold.js';
import { ATTENDANCE_MODEL_NAME } from '../../src/models/registry.js';
import { GroupRepository } from '../../src/repositories/group.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { DATASET, DATASET_SKIP } from '../helpers/paths.js';
import { DB_TARGETS } from '../repositories/db-targets.js';
import { classPhoto } from './class-photo.js';
import {
  appOn,
  assertError,
  buildTestApp,
  CROPS,
  form,
  startEmbedder,
  type TestApp,
  type TestEmbedder,
} from './helper.js';

const SESSIONS = '/api/attendance/sessions/';
// Same-person groups of the shared dataset (its README): ann, bob, cid on the roster; a stranger.
const ENROL = { ann: 'img1.jpg', bob: 'img3.jpg', cid: 'img8.jpg' };
const STRANGER = 'img27.jpg';

let emb: TestEmbedder;
before(async () => {
  if (!DATASET_SKIP) emb = await startEmbedder();
});
after(() => emb?.close());

for (const target of DB_TARGETS) {
  describe(`attendance sessions over HTTP (${target.name})`, { skip: DATASET_SKIP || target.skip }, () => {
    let t: TestApp;
    const ids = { ann: 0, bob: 0, cid: 0, other: 0 };
    let groupId = 0;
    let photoA: Buffer;
    let photoB: Buffer;
    before(async () => {
      t = await buildTestApp(target, emb.embedder);
      const persons = new PersonRepository(t.db);
      for (const key of ['ann', 'bob', 'cid', 'other'] as const)
        ids[key] = (await persons.create({ name: key, externalId: `ext-${key}` })).id;
      const groups = new GroupRepository(t.db);
      groupId = (await groups.create({ name: '3b' })).id;
      await groups.addMembers(groupId, [ids.ann, ids.bob, ids.cid]);
      for (const key of ['ann', 'bob', 'cid'] as const) {
        const data = await readFile(path.join(DATASET, ENROL[key]));
        const res = await t.app.inject({
          method: 'POST',
          url: CROPS,
          ...(await form({ image: { data, filename: 'x.jpg' }, person_id: String(ids[key]) })),
        });
        assert.equal(res.statusCode, 201, res.body);
      }
      photoA = await classPhoto(['img2.jpg', 'img12.jpg', STRANGER]); // ann, bob, stranger
      photoB = await classPhoto(['img4.jpg', 'img26.jpg']); // ann again, the stranger again
    });
    after(() => t?.close());

    const json = (method: 'POST' | 'PUT' | 'GET', url: string, payload?: object) =>
      t.app.inject({ method, url, ...(payload ? { payload } : {}) });
    const upload = async (sessionId: number, data: Buffer, app = t.app) =>
      app.inject({
        method: 'POST',
        url: `${SESSIONS}${sessionId}/photos/`,
        ...(await form({ image: { data, filename: 'c.jpg' } })),
      });
    const newSession = async () => {
      const res = await json('POST', SESSIONS, { group_id: groupId, name: 'Monday' });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as number;
    };
    const uploadsCount = async () => (await readdir(path.join(t.mediaRoot, 'uploads'))).length;

    test('a class photo marks the roster: members found, the stranger unknown, one row per member', async () => {
      const created = await json('POST', SESSIONS, {
        group_id: groupId,
        name: 'Monday',
        starts_at: '2026-12-01T08:00:00Z',
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().status, 'open');
      // The naming rule of every answer: the name the client used (here the default), and the registry's.
      const model = emb.embedder.resolveModel(ATTENDANCE_MODEL_NAME);
      assert.deepEqual(
        [created.json().model_name, created.json().model_true_name],
        [ATTENDANCE_MODEL_NAME, model.name],
      );
      const id = created.json().id as number;
      const res = await upload(id, photoA);
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json();
      assert.equal(body.faces.length, 3, res.body);
      // A close call is a match flagged for review: present all the same.
      const matched = body.faces.filter((f: { status: string }) => ['matched', 'review'].includes(f.status));
      assert.deepEqual(matched.map((f: { person_id: number }) => f.person_id).sort(), [ids.ann, ids.bob].sort());
      for (const f of matched) assert.ok(f.similarity >= thresholdForFace(model, f.box[2]), res.body);
      const unknown = body.faces.filter((f: { status: string }) => f.status === 'unknown');
      assert.equal(unknown.length, 1);
      assert.equal(unknown[0].person_id, null);

      const got = (await json('GET', `${SESSIONS}${id}/`)).json();
      assert.equal(got.model_true_name, model.name);
      assert.deepEqual(
        got.attendance.map((r: { person_id: number; status: string; source: string }) => [
          r.person_id,
          r.status,
          r.source,
        ]),
        [
          [ids.ann, 'present', 'auto'],
          [ids.bob, 'present', 'auto'],
          [ids.cid, 'absent', 'auto'],
        ],
      );
      const review = body.faces.filter((f: { status: string }) => f.status === 'review').length;
      assert.deepEqual(got.summary, { present: 2, absent: 1, unknown: 1, review });
      assert.equal(got.unknown_faces[0].face_crop_id, unknown[0].face_crop_id);
      assert.equal(got.photos.length, 1);

      // Every face is a stored crop of its own, linked to the photo and its box.
      const crop = (await json('GET', `${CROPS}${unknown[0].face_crop_id}/`)).json();
      assert.equal(crop.source_photo_id, body.photo_id);
      assert.deepEqual(crop.box, unknown[0].box);
      assert.ok(crop.width > unknown[0].box[2], 'the crop has a margin');
      const image = await t.app.inject({ method: 'GET', url: `${SESSIONS}${id}/photos/${body.photo_id}/image` });
      assert.equal(image.statusCode, 200);
      assert.equal(image.headers['content-type'], 'image/jpeg');

      // Review: a manual status, a face given by hand; a later photo re-solves but keeps both.
      const manual = await json('PUT', `${SESSIONS}${id}/attendance/${ids.bob}/`, {
        status: 'absent',
        note: 'left early',
      });
      assert.equal(manual.statusCode, 200, manual.body);
      assert.deepEqual([manual.json().status, manual.json().source], ['absent', 'manual']);
      const assign = await json('POST', `${SESSIONS}${id}/faces/${unknown[0].face_crop_id}/assign/`, {
        person_id: ids.cid,
      });
      assert.equal(assign.statusCode, 200, assign.body);
      assert.deepEqual(
        [assign.json().status, assign.json().source, assign.json().face_crop_id],
        ['present', 'manual', unknown[0].face_crop_id],
      );
      const second = await upload(id, photoB);
      assert.equal(second.statusCode, 201, second.body);
      const after2 = (await json('GET', `${SESSIONS}${id}/`)).json();
      const rowOf = (pid: number) => after2.attendance.find((r: { person_id: number }) => r.person_id === pid);
      assert.deepEqual([rowOf(ids.bob).status, rowOf(ids.bob).source], ['absent', 'manual']);
      assert.deepEqual([rowOf(ids.cid).face_crop_id, rowOf(ids.cid).source], [unknown[0].face_crop_id, 'manual']);
      assert.equal(rowOf(ids.ann).status, 'present');
      // 5 faces in all; ann answers one in each photo, cid holds one; bob's released face (absent
      // by hand) and the stranger's second face are unknown.
      assert.equal(
        after2.photos.reduce((n: number, p: { faces: unknown[] }) => n + p.faces.length, 0),
        5,
      );
      const annFaces = after2.photos
        .flatMap((p: { faces: { person_id: number | null }[] }) => p.faces)
        .filter((f: { person_id: number | null }) => f.person_id === ids.ann);
      assert.equal(annFaces.length, 2);
      assert.equal(after2.summary.unknown, 2);

      // CSV, one row per member, the contract's header.
      const csv = await t.app.inject({ method: 'GET', url: `${SESSIONS}${id}/attendance.csv` });
      assert.equal(csv.statusCode, 200);
      assert.match(String(csv.headers['content-type']), /^text\/csv/);
      const lines = csv.body.trim().split('\r\n');
      assert.equal(lines[0], 'person_id,external_id,name,status,source,similarity,face_crop_id');
      assert.equal(lines.length, 4);
      assert.match(lines[2]!, new RegExp(`^${ids.bob},ext-bob,bob,absent,manual,,$`));

      // Audit: automatic decisions with similarity and face; manual changes with before/after and note.
      const audit = (await json('GET', `/api/attendance/audit/?session_id=${id}`)).json();
      const auto = audit.results.find(
        (e: { action: string; person_id: number }) => e.action === 'auto-present' && e.person_id === ids.ann,
      );
      assert.equal(auto.actor, 'system');
      const lowest = Math.min(model.threshold, ...(model.sizeBands ?? []).map((b) => b.threshold));
      assert.ok(auto.face_crop_id && auto.after.similarity >= lowest);
      const byBob = (await json('GET', `/api/attendance/audit/?session_id=${id}&person_id=${ids.bob}`)).json();
      const change = byBob.results.find((e: { action: string }) => e.action === 'manual-status');
      assert.deepEqual(
        [change.actor, change.before.status, change.after.status, change.note],
        ['anonymous', 'present', 'absent', 'left early'],
      );

      // Rows and audit survive the person's deletion, name kept.
      await new PersonRepository(t.db).delete(ids.bob);
      const kept = (await json('GET', `${SESSIONS}${id}/`)).json();
      assert.ok(
        kept.attendance.some((r: { person_id: null; name: string }) => r.person_id === null && r.name === 'bob'),
      );
      assert.equal((await json('GET', `/api/attendance/audit/?person_id=${ids.bob}`)).json().count, byBob.count);

      // Closed: every later change is 409.
      assert.equal((await json('POST', `${SESSIONS}${id}/close/`)).json().status, 'closed');
      assertError(await upload(id, photoB), 409, 'ConflictError');
      assertError(
        await json('PUT', `${SESSIONS}${id}/attendance/${ids.ann}/`, { status: 'absent' }),
        409,
        'ConflictError',
      );
      assertError(await json('POST', `${SESSIONS}${id}/close/`), 409, 'ConflictError');
      const list = (await json('GET', SESSIONS)).json();
      assert.ok(list.results.some((s: { id: number }) => s.id === id));
    });

    test('bad input is refused and leaves nothing behind', async () => {
      const id = await newSession();
      const before = await uploadsCount();
      assertError(await upload(999_999, photoA), 404, 'NotFoundError');
      assertError(await upload(id, Buffer.from('not an image at all')), 422, 'ImageDecodeError');
      const small = await appOn(t.opened, t.mediaRoot, emb.embedder, { FACEEMBED_MAX_IMAGE_PIXELS: '100000' });
      try {
        assertError(await upload(id, photoA, small.app), 413, 'ImageTooLargeError');
      } finally {
        await small.app.close();
      }
      assert.equal(await uploadsCount(), before);
      const got = (await json('GET', `${SESSIONS}${id}/`)).json();
      assert.deepEqual([got.photos.length, got.unknown_faces.length], [0, 0]);

      const other = await newSession();
      const face = (await upload(other, photoA)).json().faces[0].face_crop_id as number;
      const wrong = assertError(
        await json('POST', `${SESSIONS}${id}/faces/${face}/assign/`, { person_id: ids.ann }),
        400,
        'ValidationError',
      );
      assert.match(wrong.message, new RegExp(`${face}`));
      const off = assertError(
        await json('PUT', `${SESSIONS}${id}/attendance/${ids.other}/`, { status: 'present' }),
        400,
        'ValidationError',
      );
      assert.match(off.message, /other/);
      assertError(
        await json('PUT', `${SESSIONS}${id}/attendance/${ids.ann}/`, { status: 'maybe' }),
        400,
        'ValidationError',
      );
      assertError(await json('POST', SESSIONS, { group_id: 999_999 }), 400, 'ValidationError');
      assertError(await json('GET', `${SESSIONS}999999/`), 404, 'NotFoundError');
    });

    test('two photos uploaded at once, to two app instances, give the sequential result', async () => {
      const sequential = await newSession();
      await upload(sequential, photoA);
      await upload(sequential, photoB);
      const expected = (await json('GET', `${SESSIONS}${sequential}/`)).json();

      const concurrent = await newSession();
      const twin = await appOn(t.opened, t.mediaRoot, emb.embedder);
      try {
        const [a, b] = await Promise.all([upload(concurrent, photoA), upload(concurrent, photoB, twin.app)]);
        assert.deepEqual([a.statusCode, b.statusCode], [201, 201], a.body + b.body);
      } finally {
        await twin.app.close();
      }
      const got = (await json('GET', `${SESSIONS}${concurrent}/`)).json();
      const state = (s: typeof got) =>
        s.attendance.map((r: { person_id: number; status: string }) => [r.person_id, r.status]);
      assert.deepEqual(state(got), state(expected));
      assert.deepEqual(got.summary, expected.summary);
      const held = got.attendance.map((r: { face_crop_id: number | null }) => r.face_crop_id).filter(Boolean);
      assert.equal(new Set(held).size, held.length, 'a face is held twice');
    });
  });
}
