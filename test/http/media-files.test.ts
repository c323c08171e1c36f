// Files that never outlive their rows, over HTTP on both databases, checked on disk and in the
// rows: deleting a class photo or a session takes its faces, embeddings, cluster places and
// files; an open session is re-solved without them; a group takes its sessions' files along; a
// crop cannot be registered on the service's own files, and deleting a crop never deletes a
// file another row owns. Stored and served images carry no metadata.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { GroupRepository } from '../../src/repositories/group.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { sample } from '../helpers/paths.js';
import { DB_TARGETS } from '../repositories/db-targets.js';
import { assertError, buildTestApp, CROPS, form, startEmbedder, type TestApp, type TestEmbedder } from './helper.js';
import { assertNoMetadata, jpegWithExif, samplesPhoto } from './media-images.js';

const SESSIONS = '/api/attendance/sessions/';
const GROUPS = '/api/attendance/groups/';

let emb: TestEmbedder;
before(async () => {
  emb = await startEmbedder();
});
after(() => emb?.close());

for (const target of DB_TARGETS) {
  describe(`media files follow their rows (${target.name})`, { skip: target.skip }, () => {
    let t: TestApp;
    let groupId = 0;
    let annId = 0;
    let photo: Buffer;
    before(async () => {
      t = await buildTestApp(target, emb.embedder);
      annId = (await new PersonRepository(t.db).create({ name: 'ann' })).id;
      const groups = new GroupRepository(t.db);
      groupId = (await groups.create({ name: 'media' })).id;
      await groups.addMembers(groupId, [annId]);
      const enrol = await t.app.inject({
        method: 'POST',
        url: CROPS,
        ...(await form({ image: { data: await readFile(sample(1)), filename: 'a.jpg' }, person_id: String(annId) })),
      });
      assert.equal(enrol.statusCode, 201, enrol.body);
      photo = await samplesPhoto([1, 2]);
    });
    after(() => t?.close());

    const json = (method: 'POST' | 'GET' | 'DELETE', url: string, payload?: object) =>
      t.app.inject({ method, url, ...(payload ? { payload } : {}) });
    const newSession = async (group = groupId) => {
      const res = await json('POST', SESSIONS, { group_id: group });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as number;
    };
    const upload = async (sessionId: number, data = photo) => {
      const res = await t.app.inject({
        method: 'POST',
        url: `${SESSIONS}${sessionId}/photos/`,
        ...(await form({ image: { data, filename: 'class.jpg' } })),
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { photo_id: number; faces: { face_crop_id: number; status: string; person_id: number }[] };
    };
    const onDisk = (rel: string) => existsSync(path.join(t.mediaRoot, rel));
    const uploads = async () => new Set(await readdir(path.join(t.mediaRoot, 'uploads')));
    const photoPath = async (photoId: number) =>
      (await t.db.selectFrom('session_photos').select('image_path').where('id', '=', photoId).executeTakeFirstOrThrow())
        .image_path;
    const cropRows = (photoId: number) =>
      t.db.selectFrom('face_crops').select(['id', 'image_path']).where('source_photo_id', '=', photoId).execute();
    const count = async (table: 'face_embeddings' | 'unknown_cluster_faces', ids: number[]) =>
      ids.length === 0
        ? 0
        : (await t.db.selectFrom(table).select('face_crop_id').where('face_crop_id', 'in', ids).execute()).length;

    test('deleting a class photo takes its faces, embeddings and files; the open session is re-solved', async () => {
      const id = await newSession();
      const kept = await upload(id);
      const gone = await upload(id);
      assert.ok(gone.faces.length >= 2, JSON.stringify(gone));
      const goneCrops = await cropRows(gone.photo_id);
      const goneFiles = [await photoPath(gone.photo_id), ...goneCrops.map((c) => c.image_path)];
      const keptFiles = [await photoPath(kept.photo_id), ...(await cropRows(kept.photo_id)).map((c) => c.image_path)];
      for (const f of [...goneFiles, ...keptFiles]) assert.ok(onDisk(f), f);
      assert.ok(
        (await count(
          'face_embeddings',
          goneCrops.map((c) => c.id),
        )) >= goneCrops.length,
      );

      const res = await json('DELETE', `${SESSIONS}${id}/photos/${gone.photo_id}/`);
      assert.equal(res.statusCode, 204, res.body);
      for (const f of goneFiles) assert.ok(!onDisk(f), `${f} removed`);
      for (const f of keptFiles) assert.ok(onDisk(f), `${f} kept`);
      assert.equal((await cropRows(gone.photo_id)).length, 0);
      assert.equal(
        await count(
          'face_embeddings',
          goneCrops.map((c) => c.id),
        ),
        0,
      );
      assert.equal(
        await count(
          'unknown_cluster_faces',
          goneCrops.map((c) => c.id),
        ),
        0,
      );
      const view = (await json('GET', `${SESSIONS}${id}/`)).json();
      assert.deepEqual(
        view.photos.map((p: { photo_id: number }) => p.photo_id),
        [kept.photo_id],
      );
      const ann = view.attendance.find((r: { person_id: number }) => r.person_id === annId);
      const annFaces = (await cropRows(kept.photo_id)).map((c) => c.id);
      assert.equal(ann.status, 'present', 'still seen on the photo that stays');
      assert.ok(annFaces.includes(ann.face_crop_id), 'her face is one of the remaining photo');

      // The last photo goes: nothing explains her presence any more.
      assertError(await json('DELETE', `${SESSIONS}${id}/photos/${gone.photo_id}/`), 404, 'NotFoundError');
      assert.equal((await json('DELETE', `${SESSIONS}${id}/photos/${kept.photo_id}/`)).statusCode, 204);
      const after = (await json('GET', `${SESSIONS}${id}/`)).json();
      assert.deepEqual([after.photos.length, after.unknown_faces.length], [0, 0]);
      const row = after.attendance.find((r: { person_id: number }) => r.person_id === annId);
      assert.deepEqual([row.status, row.face_crop_id], ['absent', null]);
      for (const f of keptFiles) assert.ok(!onDisk(f), `${f} removed`);
      const audit = (await json('GET', `/api/attendance/audit/?session_id=${id}`)).json();
      assert.equal(audit.results.filter((e: { action: string }) => e.action === 'photo-deleted').length, 2);
    });

    test('deleting a session (closed too) removes its photos, faces, attendance and files', async () => {
      const id = await newSession();
      const a = await upload(id);
      const files = [await photoPath(a.photo_id), ...(await cropRows(a.photo_id)).map((c) => c.image_path)];
      assert.equal((await json('POST', `${SESSIONS}${id}/close/`)).statusCode, 200);
      const res = await json('DELETE', `${SESSIONS}${id}/`);
      assert.equal(res.statusCode, 204, res.body);
      for (const f of files) assert.ok(!onDisk(f), `${f} removed`);
      assertError(await json('GET', `${SESSIONS}${id}/`), 404, 'NotFoundError');
      assertError(await json('DELETE', `${SESSIONS}${id}/`), 404, 'NotFoundError');
      const left = await Promise.all([
        t.db.selectFrom('session_photos').select('id').where('session_id', '=', id).execute(),
        t.db.selectFrom('attendance').select('id').where('session_id', '=', id).execute(),
        cropRows(a.photo_id),
      ]);
      assert.deepEqual(
        left.map((l) => l.length),
        [0, 0, 0],
      );
    });

    test("a face enrolled from a photo stays the person's when the photo goes", async () => {
      const id = await newSession();
      const a = await upload(id);
      const unknown = a.faces.find((f) => f.status === 'unknown') ?? a.faces[a.faces.length - 1]!;
      const other = (await new PersonRepository(t.db).create({ name: 'bo' })).id;
      await new GroupRepository(t.db).addMembers(groupId, [other]);
      const assign = await json('POST', `${SESSIONS}${id}/faces/${unknown.face_crop_id}/assign/`, {
        person_id: other,
        enrol: true,
      });
      assert.equal(assign.statusCode, 200, assign.body);
      const crop = await t.db
        .selectFrom('face_crops')
        .selectAll()
        .where('id', '=', unknown.face_crop_id)
        .executeTakeFirstOrThrow();
      assert.equal((await json('DELETE', `${SESSIONS}${id}/`)).statusCode, 204);
      const still = await t.db
        .selectFrom('face_crops')
        .selectAll()
        .where('id', '=', unknown.face_crop_id)
        .executeTakeFirst();
      assert.equal(Number(still?.person_id), other, 'the enrolled face stays');
      assert.equal(still?.source_photo_id, null, 'unlinked from the deleted photo');
      assert.ok(onDisk(crop.image_path), 'its file stays');
      await new GroupRepository(t.db).removeMember(groupId, other);
    });

    test('a face crop cannot be registered on a file the service stored; deleting a crop spares other owners', async () => {
      const id = await newSession();
      const a = await upload(id);
      const photoFile = await photoPath(a.photo_id);
      const faceFile = (await cropRows(a.photo_id))[0]!.image_path;
      for (const p of [photoFile, faceFile]) {
        const err = assertError(await json('POST', CROPS, { image_path: p }), 422, 'ValidationError');
        assert.match(err.message, /stored/);
      }
      // A row from before the refusal (written directly) naming the class photo's file:
      // deleting it leaves the photo's file to the photo.
      const legacy = await t.db
        .insertInto('face_crops')
        .values({
          image_path: photoFile,
          width: 1,
          height: 1,
          sha256: 'x',
          person_id: null,
          label: null,
          box: null,
          source_photo_id: null,
          created_at: new Date().toISOString(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      assert.equal((await json('DELETE', `${CROPS}${legacy.id}/`)).statusCode, 204);
      assert.ok(onDisk(photoFile), "the class photo's file stays");
      const served = await json('GET', `${SESSIONS}${id}/photos/${a.photo_id}/image`);
      assert.equal(served.statusCode, 200);
      // Crops sharing a file of the client's: one deleted, the file stays for the other (and is never the service's to delete).
      const c1 = (await json('POST', CROPS, { image_path: 'faces/sample3.jpg' })).json().id;
      const c2 = (await json('POST', CROPS, { image_path: 'faces/sample3.jpg' })).json().id;
      assert.equal((await json('DELETE', `${CROPS}${c1}/`)).statusCode, 204);
      assert.ok(onDisk('faces/sample3.jpg'));
      assert.equal((await json('GET', `${CROPS}${c2}/image`)).statusCode, 200);
      assert.equal((await json('DELETE', `${SESSIONS}${id}/`)).statusCode, 204);
    });

    test("deleting a group removes its sessions' photos, faces and files", async () => {
      const group = (await json('POST', GROUPS, { name: 'doomed' })).json().id as number;
      const before = await uploads();
      const s1 = await newSession(group);
      const s2 = await newSession(group);
      await upload(s1);
      await upload(s2);
      const added = [...(await uploads())].filter((f) => !before.has(f));
      assert.ok(added.length >= 6, `photos and faces stored: ${added.length}`);
      const res = await json('DELETE', `${GROUPS}${group}/`);
      assert.equal(res.statusCode, 204, res.body);
      const now = await uploads();
      assert.deepEqual(
        added.filter((f) => now.has(f)),
        [],
        'no file of the group is left',
      );
      const sessions = await t.db.selectFrom('sessions').select('id').where('group_id', '=', group).execute();
      assert.equal(sessions.length, 0);
      const orphanCrops = await t.db
        .selectFrom('face_crops')
        .leftJoin('session_photos', 'session_photos.id', 'face_crops.source_photo_id')
        .select('face_crops.id')
        .where('face_crops.source_photo_id', 'is not', null)
        .where('session_photos.id', 'is', null)
        .execute();
      assert.equal(orphanCrops.length, 0, 'no face left pointing at a deleted photo');
    });

    test('stored and served images carry no EXIF, GPS, description or orientation tag', async () => {
      const original = await jpegWithExif(photo);
      const raw = await sharp(original).metadata();
      assert.ok(raw.exif && raw.orientation === 6 && original.includes('Home Street'), 'the test photo carries them');
      const id = await newSession();
      const a = await upload(id, original);
      const stored = await assertNoMetadata(
        await readFile(path.join(t.mediaRoot, await photoPath(a.photo_id))),
        'stored photo',
      );
      assert.deepEqual([stored.width, stored.height], [raw.height, raw.width], 'turned upright before stripping');
      const served = await json('GET', `${SESSIONS}${id}/photos/${a.photo_id}/image`);
      await assertNoMetadata(served.rawPayload, 'served photo');
      for (const c of await cropRows(a.photo_id)) {
        await assertNoMetadata(await readFile(path.join(t.mediaRoot, c.image_path)), 'stored face');
        await assertNoMetadata((await json('GET', `${CROPS}${c.id}/image`)).rawPayload, 'served face');
      }
      // An uploaded crop (enrolment photo) the same.
      const crop = await t.app.inject({
        method: 'POST',
        url: CROPS,
        ...(await form({ image: { data: await jpegWithExif(await readFile(sample(2))), filename: 'p.jpg' } })),
      });
      assert.equal(crop.statusCode, 201, crop.body);
      const body = crop.json();
      const m = await assertNoMetadata(await readFile(path.join(t.mediaRoot, body.image_path)), 'uploaded crop');
      assert.deepEqual(
        [m.width, m.height],
        [body.width, body.height],
        'the answer describes the stored, upright image',
      );
      await assertNoMetadata((await json('GET', `${CROPS}${body.id}/image`)).rawPayload, 'served crop');
      assert.equal((await json('DELETE', `${SESSIONS}${id}/`)).statusCode, 204);
    });
  });
}
