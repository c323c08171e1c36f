// Erasure and consent over HTTP on both databases, with the real embedder, checked in the rows
// and on disk: after an erasure no face crop, embedding, cluster membership or file of the person
// remains, the receipt's counts equal what went (counted in the tables and the media directory),
// attendance facts stay, the search gallery no longer finds them, and a face enrolled from a
// cluster does not come back as an unknown face. Consent: FACEEMBED_REQUIRE_CONSENT refuses
// enrolment (409) and matching without `granted`; withdrawal erases.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { GroupRepository } from '../../src/repositories/group.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import type { Database } from '../../src/repositories/database.js';
import { DATASET, DATASET_SKIP } from '../helpers/paths.js';
import { DB_TARGETS } from '../repositories/db-targets.js';
import { classPhoto } from './class-photo.js';
import { appOn, assertError, buildTestApp, form, startEmbedder, type TestApp, type TestEmbedder } from './helper.js';

const PERSONS = '/api/attendance/persons/';
const SESSIONS = '/api/attendance/sessions/';
const GROUPS = '/api/attendance/groups/';

let emb: TestEmbedder;
before(async () => {
  if (!DATASET_SKIP) emb = await startEmbedder();
});
after(() => emb?.close());

/** Every file under the media root's uploads/ (what the service stored). */
async function storedFiles(root: string): Promise<Set<string>> {
  const dir = path.join(root, 'uploads');
  if (!existsSync(dir)) return new Set();
  return new Set((await readdir(dir, { recursive: true })).map((f) => `uploads/${f}`));
}

/** Rows in the tables erasure touches, for some face crops. */
async function rowsOf(db: Database, cropIds: readonly number[]) {
  if (cropIds.length === 0) return { crops: 0, embeddings: 0, clusterFaces: 0 };
  const count = async (table: 'face_crops' | 'face_embeddings' | 'unknown_cluster_faces', column: string) => {
    const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}
      where ${sql.ref(column)} in (${sql.join(cropIds)})`.execute(db);
    return Number(r.rows[0]!.n);
  };
  return {
    crops: await count('face_crops', 'id'),
    embeddings: await count('face_embeddings', 'face_crop_id'),
    clusterFaces: await count('unknown_cluster_faces', 'face_crop_id'),
  };
}

for (const target of DB_TARGETS) {
  describe(`erasure and consent over HTTP (${target.name})`, { skip: DATASET_SKIP || target.skip }, () => {
    let t: TestApp;
    const ids = { ann: 0, bob: 0 };
    let groupId = 0;
    const sessions: number[] = [];
    const json = (method: 'POST' | 'GET' | 'PUT' | 'DELETE', url: string, payload?: object, app = t.app) =>
      app.inject({ method, url, ...(payload ? { payload } : {}) });
    const enrolPhoto = async (personId: number, file: string, app = t.app) =>
      app.inject({
        method: 'POST',
        url: `${PERSONS}${personId}/faces/`,
        ...(await form({ image: { data: await readFile(path.join(DATASET, file)), filename: 'p.jpg' } })),
      });
    const identify = async (file: string, app = t.app) => {
      const res = await app.inject({
        method: 'POST',
        url: '/api/attendance/identify/',
        ...(await form({ image: { data: await readFile(path.join(DATASET, file)), filename: 'q.jpg' } })),
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().faces[0] as { person_id: number | null; matches: { person_id: number }[] };
    };
    const personCrops = async (personId: number) =>
      (await t.db.selectFrom('face_crops').select('id').where('person_id', '=', personId).execute()).map((r) =>
        Number(r.id),
      );
    const rowOf = async (sessionId: number, personId: number) =>
      (await json('GET', `${SESSIONS}${sessionId}/`))
        .json()
        .attendance.find((r: { person_id: number }) => r.person_id === personId);

    before(async () => {
      t = await buildTestApp(target, emb.embedder);
      const persons = new PersonRepository(t.db);
      for (const key of ['ann', 'bob'] as const)
        ids[key] = (await persons.create({ name: key, externalId: `ext-${key}`, metadata: { class: '3b' } })).id;
      const groups = new GroupRepository(t.db);
      groupId = (await groups.create({ name: '3b' })).id;
      await groups.addMembers(groupId, [ids.ann, ids.bob]);
      for (const [key, file] of [
        ['ann', 'img1.jpg'],
        ['bob', 'img3.jpg'],
      ] as const)
        assert.equal((await enrolPhoto(ids[key], file)).statusCode, 201);
      // ann, a newcomer and a visitor; bob and the newcomer again.
      for (const files of [
        ['img2.jpg', 'img29.jpg', 'img34.jpg'],
        ['img12.jpg', 'img30.jpg'],
      ]) {
        const id = (await json('POST', SESSIONS, { group_id: groupId })).json().id as number;
        const res = await t.app.inject({
          method: 'POST',
          url: `${SESSIONS}${id}/photos/`,
          ...(await form({ image: { data: await classPhoto(files), filename: 'c.jpg' } })),
        });
        assert.equal(res.statusCode, 201, res.body);
        sessions.push(id);
      }
      assert.equal((await rowOf(sessions[0]!, ids.ann)).status, 'present');
      assert.equal((await identify('img2.jpg')).person_id, ids.ann);
    });
    after(() => t?.close());

    test("erase (biometric): the receipt counts what went; no row, vector or file of ann's faces is left", async () => {
      const row = await rowOf(sessions[0]!, ids.ann);
      const faceIds = [...(await personCrops(ids.ann)), row.face_crop_id as number];
      const paths = (await t.db.selectFrom('face_crops').select('image_path').where('id', 'in', faceIds).execute()).map(
        (r) => r.image_path,
      );
      const rowsBefore = await rowsOf(t.db, faceIds);
      const filesBefore = await storedFiles(t.mediaRoot);
      assert.ok(paths.every((p) => filesBefore.has(p)));
      assert.ok(rowsBefore.crops === 2 && rowsBefore.embeddings >= 3, JSON.stringify(rowsBefore));

      const res = await json('POST', `${PERSONS}${ids.ann}/erase/`, {});
      assert.equal(res.statusCode, 200, res.body);
      const receipt = res.json();
      const filesAfter = await storedFiles(t.mediaRoot);
      assert.deepEqual(await rowsOf(t.db, faceIds), { crops: 0, embeddings: 0, clusterFaces: 0 });
      assert.equal(receipt.person_id, ids.ann);
      assert.equal(receipt.scope, 'biometric');
      assert.deepEqual(receipt.removed, {
        face_crops: rowsBefore.crops,
        embeddings: rowsBefore.embeddings,
        files: filesBefore.size - filesAfter.size,
        cluster_faces: rowsBefore.clusterFaces,
      });
      assert.equal(receipt.removed.files, paths.length);
      for (const p of paths) assert.ok(!existsSync(path.join(t.mediaRoot, p)), p);

      // The attendance fact stays, without its face; the person and their name stay.
      const after = await rowOf(sessions[0]!, ids.ann);
      assert.deepEqual([after.status, after.face_crop_id, after.name], ['present', null, 'ann']);
      const person = (await json('GET', `${PERSONS}${ids.ann}/`)).json();
      assert.deepEqual([person.name, person.external_id, person.face_count], ['ann', 'ext-ann', 0]);
      // The search gallery no longer finds her.
      const found = await identify('img2.jpg');
      assert.notEqual(found.person_id, ids.ann);
      assert.ok(found.matches.every((m) => m.person_id !== ids.ann));
      // Her session face is not an unknown face now.
      const unknown = (await json('GET', `${SESSIONS}${sessions[0]}/`)).json().unknown_faces;
      assert.ok(unknown.every((f: { face_crop_id: number }) => !faceIds.includes(f.face_crop_id)));
      // Audited with the counts, no biometric data.
      const audit = (await json('GET', `/api/attendance/audit/?person_id=${ids.ann}`)).json().results;
      const erased = audit.filter((e: { action: string }) => e.action === 'erased');
      assert.equal(erased.length, 1);
      assert.deepEqual(erased[0].after, { scope: 'biometric', removed: receipt.removed });
      // A second erasure finds nothing left.
      const again = (await json('POST', `${PERSONS}${ids.ann}/erase/`, { scope: 'biometric' })).json();
      assert.deepEqual(again.removed, { face_crops: 0, embeddings: 0, files: 0, cluster_faces: 0 });
      assertError(await json('POST', `${PERSONS}999999/erase/`, {}), 404, 'NotFoundError');
      assertError(await json('POST', `${PERSONS}${ids.ann}/erase/`, { scope: 'faces' }), 400, 'ValidationError');
    });

    test('erase (all) of a person enrolled from a cluster: the faces never come back as unknown; name pseudonymised', async () => {
      const clusters = async () =>
        (await json('GET', `${GROUPS}${groupId}/unknown-clusters/`)).json().clusters as {
          id: number;
          face_crop_ids: number[];
        }[];
      const newcomer = (await clusters()).find((c) => c.face_crop_ids.length === 2)!;
      assert.ok(newcomer, 'the newcomer seen in both sessions forms a cluster of two');
      const enrolled = await json('POST', `${GROUPS}${groupId}/unknown-clusters/${newcomer.id}/enrol/`, {
        name: 'dan',
        external_id: 'ext-dan',
      });
      assert.equal(enrolled.statusCode, 200, enrolled.body);
      const dan = enrolled.json().person_id as number;
      const faceIds = await personCrops(dan);
      assert.deepEqual([...faceIds].sort(), [...newcomer.face_crop_ids].sort());
      const rowsBefore = await rowsOf(t.db, faceIds);
      assert.equal(rowsBefore.clusterFaces, 2, 'the enrolled cluster still lists its faces');
      const filesBefore = await storedFiles(t.mediaRoot);

      const receipt = (await json('POST', `${PERSONS}${dan}/erase/`, { scope: 'all' })).json();
      const filesAfter = await storedFiles(t.mediaRoot);
      assert.deepEqual(receipt.removed, {
        face_crops: 2,
        embeddings: rowsBefore.embeddings,
        files: filesBefore.size - filesAfter.size,
        cluster_faces: 2,
      });
      assert.equal(receipt.removed.files, 2);
      assert.deepEqual(await rowsOf(t.db, faceIds), { crops: 0, embeddings: 0, clusterFaces: 0 });
      const listed = (await clusters()).flatMap((c) => c.face_crop_ids);
      assert.ok(
        listed.every((id) => !faceIds.includes(id)),
        'no erased face is listed as unknown again',
      );
      for (const s of sessions) {
        const unknown = (await json('GET', `${SESSIONS}${s}/`)).json().unknown_faces;
        assert.ok(unknown.every((f: { face_crop_id: number }) => !faceIds.includes(f.face_crop_id)));
      }

      // Pseudonymised in the person row, the attendance rows, the CSV and the audit trail.
      const person = (await json('GET', `${PERSONS}${dan}/`)).json();
      assert.deepEqual([person.name, person.external_id, person.metadata], [`Erased person ${dan}`, null, {}]);
      const row = await rowOf(sessions[0]!, dan);
      assert.deepEqual([row.name, row.status, row.face_crop_id], [`Erased person ${dan}`, 'present', null]);
      const csv = (await json('GET', `${SESSIONS}${sessions[0]}/attendance.csv`)).body;
      assert.ok(!csv.includes('dan'), csv);
      assert.ok(csv.includes(`Erased person ${dan}`), csv);
      const names = await t.db.selectFrom('audit_events').select('person_name').where('person_id', '=', dan).execute();
      assert.ok(names.length >= 2 && names.every((n) => n.person_name === `Erased person ${dan}`));
    });

    test("deleting a person erases their faces first: no crop, embedding or file of bob's is left", async () => {
      // bob's enrolment face, and his class-photo face when the second session matched it.
      const row = await rowOf(sessions[1]!, ids.bob);
      const faceIds = [
        ...(await personCrops(ids.bob)),
        ...(row.face_crop_id === null ? [] : [row.face_crop_id as number]),
      ];
      const paths = (await t.db.selectFrom('face_crops').select('image_path').where('id', 'in', faceIds).execute()).map(
        (r) => r.image_path,
      );
      assert.equal(paths.length, faceIds.length);
      assert.equal((await json('DELETE', `${PERSONS}${ids.bob}/`)).statusCode, 204);
      assert.deepEqual(await rowsOf(t.db, faceIds), { crops: 0, embeddings: 0, clusterFaces: 0 });
      for (const p of paths) assert.ok(!existsSync(path.join(t.mediaRoot, p)), p);
      assertError(await json('GET', `${PERSONS}${ids.bob}/`), 404, 'NotFoundError');
      // The attendance row outlives the person, with the name as it was.
      const kept = await t.db
        .selectFrom('attendance')
        .select(['person_id', 'person_name', 'status', 'face_crop_id'])
        .where('session_id', '=', sessions[1]!)
        .where('person_name', '=', 'bob')
        .executeTakeFirstOrThrow();
      assert.deepEqual([kept.person_id, kept.status, kept.face_crop_id], [null, row.status, null]);
      const erased = await t.db
        .selectFrom('audit_events')
        .select('after')
        .where('person_id', '=', ids.bob)
        .where('action', '=', 'erased')
        .execute();
      assert.equal(erased.length, 1);
    });

    test('FACEEMBED_REQUIRE_CONSENT: no enrolment (409) and no match without granted; withdrawal erases', async () => {
      const strict = await appOn(t.opened, t.mediaRoot, emb.embedder, { FACEEMBED_REQUIRE_CONSENT: 'true' });
      try {
        const carl = (await json('POST', PERSONS, { name: 'carl' }, strict.app)).json();
        assert.deepEqual(carl.consent, { status: 'unknown', by: null, at: null, basis: null });
        const files = await storedFiles(t.mediaRoot);
        assertError(await enrolPhoto(carl.id, 'img34.jpg', strict.app), 409, 'ConflictError');
        assert.equal((await personCrops(carl.id)).length, 0, 'nothing stored');
        assert.deepEqual(await storedFiles(t.mediaRoot), files, 'no file left behind');
        // A face crop registered for a person who would be created now: refused before anyone is created.
        assertError(
          await json(
            'POST',
            '/api/attendance/face-crops/',
            { image_path: 'faces/sample1.jpg', person_id: 'S-new' },
            strict.app,
          ),
          409,
          'ConflictError',
        );
        assert.equal((await json('GET', `${PERSONS}?external_id=S-new`)).json().count, 0);

        const granted = await json(
          'PUT',
          `${PERSONS}${carl.id}/consent/`,
          { status: 'granted', by: 'guardian', basis: 'form 2026-17' },
          strict.app,
        );
        assert.equal(granted.statusCode, 200, granted.body);
        assert.equal(granted.json().consent.status, 'granted');
        assert.equal(granted.json().consent.by, 'guardian');
        assert.ok(granted.json().consent.at);
        assert.equal((await enrolPhoto(carl.id, 'img34.jpg', strict.app)).statusCode, 201);
        assert.equal((await identify('img35.jpg', strict.app)).person_id, carl.id);

        // Consent no longer on record: the faces stay stored but are never matched.
        await json('PUT', `${PERSONS}${carl.id}/consent/`, { status: 'unknown' }, strict.app);
        const unmatched = await identify('img35.jpg', strict.app);
        assert.equal(unmatched.person_id, null);
        assert.ok(unmatched.matches.every((m) => m.person_id !== carl.id));
        assert.equal((await personCrops(carl.id)).length, 1);
        await json('PUT', `${PERSONS}${carl.id}/consent/`, { status: 'granted' }, strict.app);
        assert.equal((await identify('img35.jpg', strict.app)).person_id, carl.id);

        // Withdrawal erases their biometric data, with the receipt.
        const crops = await personCrops(carl.id);
        const withdrawn = (
          await json('PUT', `${PERSONS}${carl.id}/consent/`, { status: 'withdrawn', by: 'guardian' }, strict.app)
        ).json();
        assert.equal(withdrawn.consent.status, 'withdrawn');
        assert.equal(withdrawn.face_count, 0);
        assert.equal(withdrawn.erasure.scope, 'biometric');
        assert.equal(withdrawn.erasure.removed.face_crops, 1);
        assert.equal(withdrawn.erasure.removed.files, 1);
        assert.deepEqual(await rowsOf(t.db, crops), { crops: 0, embeddings: 0, clusterFaces: 0 });
        assert.equal((await identify('img35.jpg', strict.app)).person_id, null);
        // A withdrawal stands without FACEEMBED_REQUIRE_CONSENT too: no enrolment until granted again.
        assertError(await enrolPhoto(carl.id, 'img34.jpg'), 409, 'ConflictError');
        assert.equal((await personCrops(carl.id)).length, 0);
        const actions = (await json('GET', `/api/attendance/audit/?person_id=${carl.id}`, undefined, strict.app))
          .json()
          .results.map((e: { action: string }) => e.action);
        assert.deepEqual(actions, ['consent', 'consent', 'consent', 'consent', 'erased']);
        assertError(
          await json('PUT', `${PERSONS}${carl.id}/consent/`, { status: 'maybe' }, strict.app),
          400,
          'ValidationError',
        );
      } finally {
        await strict.app.close();
      }
    });
  });
}
