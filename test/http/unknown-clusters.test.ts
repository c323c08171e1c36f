// Unknown-face clusters over HTTP on both databases, with the real embedder: a newcomer seen
// in three sessions (one closed) forms one cluster; enrolling it makes a person on the roster,
// present (source cluster) in the open sessions only; bad input changes nothing; two servers
// enrolling the same cluster at once make one person.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
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
const GROUPS = '/api/attendance/groups/';
// Same-person groups of the shared dataset (bench/parts/dataset.ts IDENTITIES): ann and bob on
// the roster; a newcomer (img29-31) and a visitor (img34-35) who are not.
const ENROL = { ann: 'img1.jpg', bob: 'img3.jpg' };

interface Cluster {
  id: number;
  face_crop_ids: number[];
  size: number;
  representative_face_crop_id: number;
  session_ids: number[];
  nearest_person: { person_id: number; similarity: number } | null;
}

let emb: TestEmbedder;
before(async () => {
  if (!DATASET_SKIP) emb = await startEmbedder();
});
after(() => emb?.close());

for (const target of DB_TARGETS) {
  describe(`unknown-face clusters over HTTP (${target.name})`, { skip: DATASET_SKIP || target.skip }, () => {
    let t: TestApp;
    const ids = { ann: 0, bob: 0 };
    let groupId = 0;
    let otherGroupId = 0;
    const sessions: number[] = [];
    before(async () => {
      t = await buildTestApp(target, emb.embedder);
      const persons = new PersonRepository(t.db);
      for (const key of ['ann', 'bob'] as const)
        ids[key] = (await persons.create({ name: key, externalId: `ext-${key}` })).id;
      const groups = new GroupRepository(t.db);
      groupId = (await groups.create({ name: '3b' })).id;
      otherGroupId = (await groups.create({ name: '4c' })).id;
      await groups.addMembers(groupId, [ids.ann, ids.bob]);
      for (const key of ['ann', 'bob'] as const) {
        const data = await readFile(path.join(DATASET, ENROL[key]));
        const res = await t.app.inject({
          method: 'POST',
          url: CROPS,
          ...(await form({ image: { data, filename: 'x.jpg' }, person_id: String(ids[key]) })),
        });
        assert.equal(res.statusCode, 201, res.body);
      }
      const photos = [
        ['img2.jpg', 'img29.jpg', 'img34.jpg'], // ann, the newcomer, the visitor
        ['img12.jpg', 'img30.jpg'], // bob, the newcomer
        ['img31.jpg', 'img35.jpg'], // the newcomer, the visitor: this session is closed
      ];
      for (const files of photos) {
        const created = await json('POST', SESSIONS, { group_id: groupId });
        assert.equal(created.statusCode, 201, created.body);
        const id = created.json().id as number;
        const res = await t.app.inject({
          method: 'POST',
          url: `${SESSIONS}${id}/photos/`,
          ...(await form({ image: { data: await classPhoto(files), filename: 'c.jpg' } })),
        });
        assert.equal(res.statusCode, 201, res.body);
        sessions.push(id);
      }
      assert.equal((await json('POST', `${SESSIONS}${sessions[2]}/close/`)).statusCode, 200);
    });
    after(() => t?.close());

    const json = (method: 'POST' | 'GET', url: string, payload?: object, app = t.app) =>
      app.inject({ method, url, ...(payload ? { payload } : {}) });
    const clusters = async (): Promise<Cluster[]> => {
      const res = await json('GET', `${GROUPS}${groupId}/unknown-clusters/`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().clusters;
    };
    const unknownFaces = async (sessionId: number): Promise<number[]> =>
      (await json('GET', `${SESSIONS}${sessionId}/`))
        .json()
        .unknown_faces.map((f: { face_crop_id: number }) => f.face_crop_id);
    const enrolUrl = (clusterId: number, group = groupId) => `${GROUPS}${group}/unknown-clusters/${clusterId}/enrol/`;

    test("the group's unknown faces, across sessions open and closed, one cluster per person, largest first", async () => {
      const list = await clusters();
      assert.deepEqual(
        list.map((c) => [c.size, c.session_ids]),
        [
          [3, sessions],
          [2, [sessions[0], sessions[2]]],
        ],
        JSON.stringify(list),
      );
      const unknown = new Set((await Promise.all(sessions.map(unknownFaces))).flat());
      assert.equal(unknown.size, 5);
      for (const c of list) {
        assert.ok(c.face_crop_ids.every((id) => unknown.has(id)));
        assert.equal(c.representative_face_crop_id, c.face_crop_ids[0]);
        assert.ok(c.nearest_person && [ids.ann, ids.bob].includes(c.nearest_person.person_id));
        assert.ok(c.nearest_person.similarity < emb.embedder.resolveModel('facenet').threshold);
      }
      // Listing again places nothing anew: the same clusters, the same ids.
      assert.deepEqual(await clusters(), list);
      // Each stored face reports its quality.
      const crop = (await json('GET', `${CROPS}${list[0]!.representative_face_crop_id}/`)).json();
      assert.ok(crop.width_px > 100 && crop.sharpness > 0 && Math.abs(crop.yaw) < 45, JSON.stringify(crop));
    });

    test('bad input: a taken external_id (409, nothing enrolled), no such cluster, another group (404)', async () => {
      const before = await clusters();
      const newcomer = before[0]!;
      const persons = (await json('GET', '/api/attendance/persons/')).json().count;
      assertError(
        await json('POST', enrolUrl(newcomer.id), { name: 'dan', external_id: 'ext-ann' }),
        409,
        'ConflictError',
      );
      assertError(await json('POST', enrolUrl(999_999), { name: 'dan' }), 404, 'NotFoundError');
      assertError(await json('POST', enrolUrl(newcomer.id, otherGroupId), { name: 'dan' }), 404, 'NotFoundError');
      assertError(await json('POST', enrolUrl(newcomer.id), { person_id: 999_999 }), 400, 'ValidationError');
      assertError(
        await json('POST', enrolUrl(newcomer.id), { name: 'dan', person_id: ids.ann }),
        400,
        'ValidationError',
      );
      assert.equal((await json('GET', '/api/attendance/persons/')).json().count, persons);
      assert.deepEqual(await clusters(), before);
    });

    test("split: the visitor's face of the closed session taken out into a cluster of its own", async () => {
      const visitor = (await clusters())[1]!;
      const url = `${GROUPS}${groupId}/unknown-clusters/${visitor.id}/split/`;
      assertError(await json('POST', url, { face_crop_ids: visitor.face_crop_ids }), 400, 'ValidationError');
      assertError(await json('POST', url, { face_crop_ids: [999_999] }), 400, 'ValidationError');
      const inClosed = await unknownFaces(sessions[2]!);
      const closedFace = visitor.face_crop_ids.find((id) => inClosed.includes(id))!;
      const res = await json('POST', url, { face_crop_ids: [closedFace] });
      assert.equal(res.statusCode, 200, res.body);
      const [kept, split] = res.json().clusters as Cluster[];
      assert.equal(kept!.id, visitor.id);
      assert.deepEqual(split!.face_crop_ids, [closedFace]);
      assert.deepEqual(
        (await clusters()).map((c) => c.size),
        [3, 1, 1],
      );
    });

    test('two servers enrol the same cluster at once: one person, the other answer 409', async () => {
      const newcomer = (await clusters())[0]!;
      const twin = await appOn(t.opened, t.mediaRoot, emb.embedder);
      let answers;
      try {
        answers = await Promise.all([
          json('POST', enrolUrl(newcomer.id), { name: 'dan' }),
          json('POST', enrolUrl(newcomer.id), { name: 'dan' }, twin.app),
        ]);
      } finally {
        await twin.app.close();
      }
      assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 409], answers.map((r) => r.body).join());
      assertError(
        answers.find((r) => r.statusCode === 409)!,
        409,
        'ConflictError',
      );
      const body = answers.find((r) => r.statusCode === 200)!.json();
      const dans = (await json('GET', '/api/attendance/persons/?page_size=100'))
        .json()
        .results.filter((p: { name: string }) => p.name === 'dan');
      assert.equal(dans.length, 1, 'one person');
      assert.equal(body.person_id, dans[0].id);
      assert.deepEqual([body.enrolled_faces, body.sessions_marked], [3, 2]);
      assert.deepEqual(body.session_ids, sessions.slice(0, 2));
      assert.deepEqual(body.face_crop_ids.sort(), [...newcomer.face_crop_ids].sort());
      assert.equal(dans[0].face_count, 3);

      // On the roster; present by the cluster in the open sessions, with the face seen there.
      const members = (await json('GET', `${GROUPS}${groupId}/members/`))
        .json()
        .results.map((p: { id: number }) => p.id);
      assert.ok(members.includes(body.person_id));
      for (const sessionId of sessions.slice(0, 2)) {
        const view = (await json('GET', `${SESSIONS}${sessionId}/`)).json();
        const row = view.attendance.find((r: { person_id: number }) => r.person_id === body.person_id);
        assert.deepEqual([row.status, row.source], ['present', 'cluster']);
        assert.ok(newcomer.face_crop_ids.includes(row.face_crop_id));
        const csv = (await json('GET', `${SESSIONS}${sessionId}/attendance.csv`)).body;
        assert.match(csv, new RegExp(`^${body.person_id},,"dan","present","cluster",`, 'm'));
      }
      // The closed session is not changed.
      const closed = (await json('GET', `${SESSIONS}${sessions[2]}/`)).json();
      assert.ok(!closed.attendance.some((r: { person_id: number }) => r.person_id === body.person_id));
      const audit = (await json('GET', `/api/attendance/audit/?person_id=${body.person_id}`)).json().results;
      assert.equal(audit.filter((e: { action: string }) => e.action === 'cluster-present').length, 2);
      assert.ok(audit.every((e: { actor: string }) => e.actor === 'anonymous'));

      // The cluster is no longer listed, and enrolling it again is too late.
      assert.deepEqual(
        (await clusters()).map((c) => c.size),
        [1, 1],
      );
      assertError(await json('POST', enrolUrl(newcomer.id), { name: 'dan again' }), 409, 'ConflictError');
    });

    test('a cluster given to an existing person who is already present: enrolled, the session kept as it was', async () => {
      const inOpen = (await clusters()).find((c) => c.session_ids[0] === sessions[0])!;
      const res = await json('POST', enrolUrl(inOpen.id), { person_id: ids.ann });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual([res.json().person_id, res.json().enrolled_faces, res.json().sessions_marked], [ids.ann, 1, 0]);
      const view = (await json('GET', `${SESSIONS}${sessions[0]}/`)).json();
      const ann = view.attendance.find((r: { person_id: number }) => r.person_id === ids.ann);
      assert.deepEqual([ann.status, ann.source], ['present', 'auto']);
      assert.deepEqual(
        (await clusters()).map((c) => c.size),
        [1],
      );
    });
  });
}
