// Enrolment that cannot silently go wrong, over HTTP with the real embedder on both databases: a
// photo with two plausible faces is refused (422, their boxes, nothing stored: no row, no file),
// then accepted when the form names one by face_index or by box; a named face that is not there
// and malformed names are ValidationErrors; a blurred portrait is refused by the quality gate
// with its reason and nothing stored; a person's enrolment strength follows their photos.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { sql } from 'kysely';
import { DB_TARGETS } from '../repositories/db-targets.js';
import { portrait, sideBySide } from '../helpers/composed-faces.js';
import { assertError, buildTestApp, form, startEmbedder, type TestApp, type TestEmbedder } from './helper.js';

const PERSONS = '/api/attendance/persons/';
type Box = [number, number, number, number];

let emb: TestEmbedder;
before(async () => {
  emb = await startEmbedder({ preload: 'all' });
});
after(() => emb?.close());

for (const target of DB_TARGETS) {
  describe(`enrolment face choice and quality gate (${target.name})`, { skip: target.skip }, () => {
    let t: TestApp;
    const images: Record<string, Buffer> = {};
    before(async () => {
      t = await buildTestApp(target, emb.embedder);
      images.pair = await sideBySide('a', 'b');
      images.single = await portrait('c');
      images.single2 = await portrait('c', { blur: 0.6 });
      images.blurred = await portrait('d', { blur: 6 });
    });
    after(() => t?.close());

    const enrol = async (personId: number, image: Buffer, fields: Record<string, string> = {}) =>
      t.app.inject({
        method: 'POST',
        url: `${PERSONS}${personId}/faces/`,
        ...(await form({ ...fields, image: { data: image, filename: 'photo.jpg', type: 'image/jpeg' } })),
      });
    const person = async (name: string) =>
      (await t.app.inject({ method: 'POST', url: PERSONS, payload: { name: `${name} ${target.name}` } })).json();
    /** Rows and files that an enrolment would leave. */
    const stored = async () => {
      const n = async (table: 'face_crops' | 'face_embeddings') =>
        Number(
          (await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(t.db)).rows[0]!.n,
        );
      const files = (await readdir(t.mediaRoot, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
      return { crops: await n('face_crops'), embeddings: await n('face_embeddings'), files: files.length };
    };

    test('two plausible faces: 422 with both boxes, nothing stored; then either one by face_index or box', async () => {
      const p = await person('pair');
      const before = await stored();
      const refused = assertError(await enrol(p.id, images.pair!), 422, 'ValidationError');
      assert.match(refused.message, /2 plausible faces/);
      const details = refused.details as { reason: string; count: number; faces: Box[] };
      assert.equal(details.reason, 'several_faces');
      assert.equal(details.count, 2);
      assert.equal(details.faces.length, 2);
      const centres = details.faces.map((b) => b[0] + b[2] / 2);
      assert.ok(centres.some((x) => x < 320) && centres.some((x) => x > 320), JSON.stringify(details.faces));
      assert.deepEqual(await stored(), before, 'no row, no file');

      const second = await enrol(p.id, images.pair!, { face_index: '1' });
      assert.equal(second.statusCode, 201, second.body);
      const body = second.json();
      assert.deepEqual([body.faces_seen, body.face_index], [2, 1]);
      assert.deepEqual(
        body.box.map((v: number) => Math.round(v * 10) / 10),
        details.faces[1],
      );
      assert.equal(typeof body.quality.width_px, 'number');
      const after = await stored();
      assert.equal(after.crops, before.crops + 1);
      assert.equal(after.files, before.files + 1);

      const [x, y, w, h] = details.faces[0]!;
      const q = await person('pair by box');
      const byBox = await enrol(q.id, images.pair!, { box: `${x + 6},${y - 4},${w},${h + 5}` });
      assert.equal(byBox.statusCode, 201, byBox.body);
      assert.equal(byBox.json().face_index, 0);
      const crop = (await t.app.inject({ url: `/api/attendance/face-crops/${byBox.json().face_crop_id}/` })).json();
      assert.equal(crop.person_id, q.id);
      assert.equal(crop.embeddings.length, emb.embedder.models().length, 'every model embedded the named face');
    });

    test('a named face that is not there, or a malformed name: ValidationError, nothing stored', async () => {
      const p = await person('bad names');
      const before = await stored();
      const cases: [Record<string, string>, number][] = [
        [{ face_index: '2' }, 400],
        [{ face_index: '-1' }, 400],
        [{ face_index: 'first' }, 400],
        [{ box: '500,300,40,40' }, 400],
        [{ box: '1,2,3' }, 400],
        [{ box: '1,2,-3,4' }, 400],
        [{ box: '10,20,100,100', face_index: '0' }, 400],
      ];
      for (const [fields, status] of cases) {
        const error = assertError(await enrol(p.id, images.pair!, fields), status, 'ValidationError');
        assert.ok(error.message.length > 0, JSON.stringify(fields));
      }
      assert.deepEqual(await stored(), before);
    });

    test('the quality gate refuses a blurred face with its reason; nothing stored', async () => {
      const p = await person('blurred');
      const before = await stored();
      const error = assertError(await enrol(p.id, images.blurred!), 422, 'ValidationError');
      assert.equal((error.details as { reason: string }).reason, 'too_blurry', JSON.stringify(error));
      assert.deepEqual(await stored(), before);
      const got = (await t.app.inject({ url: `${PERSONS}${p.id}/` })).json();
      assert.deepEqual(got.enrolment, { photos: 0, strength: 'weak', reasons: ['no_photos'] });
    });

    test('one good photo is a weak enrolment, two make it ok; the list says so too', async () => {
      const p = await person('strength');
      const first = await enrol(p.id, images.single!);
      assert.equal(first.statusCode, 201, first.body);
      assert.deepEqual([first.json().faces_seen, first.json().face_index], [1, 0]);
      const one = (await t.app.inject({ url: `${PERSONS}${p.id}/` })).json();
      assert.deepEqual(one.enrolment, { photos: 1, strength: 'weak', reasons: ['one_photo'] });
      const second = await enrol(p.id, images.single2!);
      assert.equal(second.statusCode, 201, second.body);
      const two = (await t.app.inject({ url: `${PERSONS}${p.id}/` })).json();
      assert.deepEqual(two.enrolment, { photos: 2, strength: 'ok', reasons: [] });
      const list = (await t.app.inject({ url: `${PERSONS}?page_size=100` })).json();
      const listed = list.results.find((r: { id: number }) => r.id === p.id);
      assert.deepEqual(listed.enrolment, two.enrolment);
    });
  });
}
