// Sessions with several photos over HTTP on both databases, real embedder, embedded jobs: two
// students in two photos are matched in both (one-to-one inside each photo), present once with
// their best face, and never counted unknown nor sent to the unknown-face clusters; queued
// uploads end as synchronous ones; a photo added after manual decisions leaves them as they are;
// a face given by hand to a student already matched in its photo is 409 naming the other face.
// The photos are made from the repository's own sample photos (sample-class.ts).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/config.js';
import { buildApp } from '../../src/http/app.js';
import { startJobs, type JobsWiring } from '../../src/jobs.js';
import { createServices } from '../../src/main.js';
import { GroupRepository } from '../../src/repositories/group.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';
import { assertError, CROPS, form, makeMediaRoot, silent, startEmbedder, type TestEmbedder } from './helper.js';
import { classPhoto, enrolmentPhoto, type ClassPhoto, type Who } from './sample-class.js';

const SESSIONS = '/api/attendance/sessions/';
const GROUPS = '/api/attendance/groups/';
const JOBS = '/api/attendance/jobs/';
const MEMBERS = ['ann', 'bob', 'cid'] as const;

interface Face {
  face_crop_id: number;
  box: number[];
  person_id: number | null;
  similarity: number | null;
  status: string;
}
interface Row {
  person_id: number;
  status: string;
  source: string;
  similarity: number | null;
  face_crop_id: number | null;
}
interface SessionBody {
  photos: { photo_id: number; faces: Face[] }[];
  attendance: Row[];
  unknown_faces: { face_crop_id: number }[];
  summary: { present: number; absent: number; unknown: number; review: number };
}

let emb: TestEmbedder;
before(async () => {
  emb = await startEmbedder();
});
after(() => emb?.close());

for (const target of DB_TARGETS) {
  describe(`sessions with several photos (${target.name})`, { skip: target.skip }, () => {
    let opened: OpenedDb;
    let app: FastifyInstance;
    let jobs: JobsWiring;
    const ids: Record<Who, number> = { ann: 0, bob: 0, cid: 0, stranger: 0 };
    // Ann and Bob in both photos (the second mirrored, at other sizes), a stranger in both; Cid in neither.
    let first: ClassPhoto;
    let second: ClassPhoto;

    before(async () => {
      opened = await target.open();
      const mediaRoot = await makeMediaRoot();
      const config = loadConfig(
        { FACEEMBED_MEDIA_ROOT: mediaRoot, FACEEMBED_DATABASE_URL: opened.url, FACEEMBED_LOG_LEVEL: 'silent' },
        mediaRoot,
      );
      const services = createServices({ db: opened.db, embedder: emb.embedder, config });
      const deps = { config, db: opened.db, embedder: emb.embedder, logger: silent };
      const { faceCrops: crops, persons, sessions } = services;
      jobs = await startJobs({ ...deps, crops, persons, sessions, retention: services.retention, runsJobs: true });
      app = await buildApp({ ...deps, services: () => services, jobs: jobs.service });
      const repo = new PersonRepository(opened.db);
      for (const who of MEMBERS) {
        ids[who] = (await repo.create({ name: who })).id;
        const res = await app.inject({
          method: 'POST',
          url: CROPS,
          ...(await form({
            image: { data: await enrolmentPhoto(who), filename: 'e.jpg' },
            person_id: String(ids[who]),
          })),
        });
        assert.equal(res.statusCode, 201, res.body);
      }
      first = await classPhoto([
        { who: 'ann', width: 300 },
        { who: 'stranger', width: 280 },
        { who: 'bob', width: 320 },
      ]);
      second = await classPhoto([
        { who: 'bob', width: 260, retake: true },
        { who: 'ann', width: 340, retake: true },
        { who: 'stranger', width: 300, retake: true },
      ]);
    });
    after(async () => {
      await app?.close();
      await jobs?.close();
      await opened?.close();
    });

    const json = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
      app.inject({ method, url, ...(payload ? { payload } : {}) });
    /** A session of a group of its own (Ann, Bob and Cid), so that its clusters are its alone. */
    const newSession = async () => {
      const groups = new GroupRepository(opened.db);
      const groupId = (await groups.create({ name: `class ${Math.random()}` })).id;
      await groups.addMembers(
        groupId,
        MEMBERS.map((m) => ids[m]),
      );
      const res = await json('POST', SESSIONS, { group_id: groupId });
      assert.equal(res.statusCode, 201, res.body);
      return { id: res.json().id as number, groupId };
    };
    const upload = async (id: number, photo: ClassPhoto, queued = false) =>
      app.inject({
        method: 'POST',
        url: `${SESSIONS}${id}/photos/${queued ? '?async=true' : ''}`,
        ...(await form({ image: { data: photo.data, filename: 'c.jpg' } })),
      });
    const finished = async (jobId: number) => {
      for (;;) {
        const body = (await json('GET', `${JOBS}${jobId}/`)).json();
        if (!['queued', 'running'].includes(body.status)) return body;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const read = async (id: number) => (await json('GET', `${SESSIONS}${id}/`)).json() as SessionBody;
    /** Each face of a photo's answer as [whose tile, person answered, status], left to right. */
    const answers = (photo: ClassPhoto, faces: readonly Face[]) =>
      [...faces]
        .sort((a, b) => a.box[0]! - b.box[0]!)
        .map((f) => [photo.whoAt(f.box), f.person_id, f.status === 'review' ? 'matched' : f.status]);
    const expected = (photo: ClassPhoto, faces: readonly Face[]) =>
      [...faces]
        .sort((a, b) => a.box[0]! - b.box[0]!)
        .map((f) => {
          const who = photo.whoAt(f.box);
          return who === 'stranger' ? [who, null, 'unknown'] : [who, ids[who], 'matched'];
        });
    /** Every face of the session with its tile's owner and its photo (1: first, 2: second). */
    const facesOf = (s: SessionBody, photos: readonly ClassPhoto[]) =>
      s.photos.flatMap((p, i) =>
        p.faces.map((f) => ({ ...f, who: photos[i]!.whoAt(f.box), take: photos[i] === first ? 1 : 2 })),
      );
    /** The clusters hold the stranger's faces only. */
    const assertClustersStrangersOnly = async (groupId: number, s: SessionBody, photos: readonly ClassPhoto[]) => {
      const res = await json('GET', `${GROUPS}${groupId}/unknown-clusters/`);
      assert.equal(res.statusCode, 200, res.body);
      const clustered = new Set(res.json().clusters.flatMap((c: { face_crop_ids: number[] }) => c.face_crop_ids));
      const faces = facesOf(s, photos);
      const members = faces.filter((f) => f.who !== 'stranger').map((f) => f.face_crop_id);
      assert.deepEqual(
        members.filter((id) => clustered.has(id)),
        [],
        'a member face is in the unknown-face clusters',
      );
      return { clustered, faces };
    };

    test('two students in two photos: matched in both, present once with the best face, unknown = the stranger', async () => {
      const { id, groupId } = await newSession();
      const one = await upload(id, first);
      const two = await upload(id, second);
      assert.deepEqual([one.statusCode, two.statusCode], [201, 201], one.body + two.body);
      // Each upload's answer: both students matched in each photo, the stranger unknown.
      assert.deepEqual(answers(first, one.json().faces), expected(first, one.json().faces));
      assert.deepEqual(answers(second, two.json().faces), expected(second, two.json().faces));
      assert.equal(one.json().faces.length, 3, one.body);
      assert.equal(two.json().faces.length, 3, two.body);

      const s = await read(id);
      assert.deepEqual(answers(first, s.photos[0]!.faces), expected(first, s.photos[0]!.faces));
      assert.deepEqual(answers(second, s.photos[1]!.faces), expected(second, s.photos[1]!.faces));
      const faces = facesOf(s, [first, second]);
      for (const who of ['ann', 'bob'] as const) {
        const row = s.attendance.find((r) => r.person_id === ids[who])!;
        const mine = faces.filter((f) => f.who === who);
        const best = [...mine].sort((a, b) => b.similarity! - a.similarity! || a.face_crop_id - b.face_crop_id)[0]!;
        assert.deepEqual([row.status, row.source, row.face_crop_id], ['present', 'auto', best.face_crop_id], who);
        assert.ok(Math.abs(row.similarity! - best.similarity!) < 1e-6);
      }
      assert.deepEqual(
        s.attendance.map((r) => [r.person_id, r.status]),
        MEMBERS.map((m) => [ids[m], m === 'cid' ? 'absent' : 'present']),
      );
      const strangers = faces.filter((f) => f.who === 'stranger').map((f) => f.face_crop_id);
      assert.deepEqual(
        s.unknown_faces.map((u) => u.face_crop_id),
        strangers,
      );
      assert.deepEqual({ ...s.summary, review: 0 }, { present: 2, absent: 1, unknown: 2, review: 0 });
      const { clustered } = await assertClustersStrangersOnly(groupId, s, [first, second]);
      assert.deepEqual([...clustered].sort(), [...strangers].sort(), 'both stranger faces are clustered');
    });

    test('queued uploads (at once, any order) end as synchronous ones: same answers, rows and counts', async () => {
      const sync = await newSession();
      assert.equal((await upload(sync.id, first)).statusCode, 201);
      const syncSecond = (await upload(sync.id, second)).json();
      const want = await read(sync.id);

      const queued = await newSession();
      const accepted = await Promise.all([upload(queued.id, second, true), upload(queued.id, first, true)]);
      for (const res of accepted) assert.equal(res.statusCode, 202, res.body);
      const [jobSecond, jobFirst] = await Promise.all(accepted.map((res) => finished(res.json().job_id)));
      for (const job of [jobSecond, jobFirst]) assert.equal(job.status, 'completed', JSON.stringify(job));
      // The job's answer for a photo is the synchronous one, whatever else the session holds.
      assert.deepEqual(answers(second, jobSecond.result.faces), answers(second, syncSecond.faces));
      const got = await read(queued.id);
      // Which stored photo is which: the jobs' answers say.
      const byId = new Map([
        [jobSecond.result.photo_id as number, second],
        [jobFirst.result.photo_id as number, first],
      ]);
      const gotPhotos = got.photos.map((p) => byId.get(p.photo_id)!);
      const state = (s: SessionBody, photos: readonly ClassPhoto[]) => {
        const faces = facesOf(s, photos);
        const held = (r: Row) => faces.find((f) => f.face_crop_id === r.face_crop_id);
        return {
          rows: s.attendance.map((r) => [r.person_id, r.status, r.source, held(r)?.who, held(r)?.take]),
          faces: faces.map((f) => [f.take, f.who, f.person_id, f.status]).sort(),
          summary: s.summary,
        };
      };
      assert.deepEqual(state(got, gotPhotos), state(want, [first, second]));
      await assertClustersStrangersOnly(queued.groupId, got, gotPhotos);
    });

    test('a photo added after manual decisions keeps them; a second face in one photo is 409', async () => {
      const { id, groupId } = await newSession();
      const one = (await upload(id, first)).json();
      const faceOf = (photo: ClassPhoto, faces: readonly Face[], who: Who) =>
        faces.find((f) => photo.whoAt(f.box) === who)!.face_crop_id;
      const annFirst = faceOf(first, one.faces, 'ann');
      const strangerFirst = faceOf(first, one.faces, 'stranger');
      // Ann present by hand (her row keeps this face); the stranger's face given to Cid by hand.
      const manual = await json('PUT', `${SESSIONS}${id}/attendance/${ids.ann}/`, { status: 'present' });
      assert.deepEqual([manual.json().source, manual.json().face_crop_id], ['manual', annFirst]);
      const assigned = await json('POST', `${SESSIONS}${id}/faces/${strangerFirst}/assign/`, { person_id: ids.cid });
      assert.equal(assigned.statusCode, 200, assigned.body);

      const two = (await upload(id, second)).json();
      const annSecond = faceOf(second, two.faces, 'ann');
      const bobSecond = faceOf(second, two.faces, 'bob');
      const strangerSecond = faceOf(second, two.faces, 'stranger');
      const s = await read(id);
      const row = (who: Who) => s.attendance.find((r) => r.person_id === ids[who])!;
      assert.deepEqual(
        [row('ann').status, row('ann').source, row('ann').face_crop_id],
        ['present', 'manual', annFirst],
      );
      assert.deepEqual(
        [row('cid').status, row('cid').source, row('cid').face_crop_id],
        ['present', 'manual', strangerFirst],
      );
      assert.deepEqual([row('bob').status, row('bob').source], ['present', 'auto']);
      // Ann's face in the new photo answers her all the same; only the stranger's new face is unknown.
      assert.deepEqual(answers(second, s.photos[1]!.faces), expected(second, s.photos[1]!.faces));
      assert.deepEqual(
        s.unknown_faces.map((u) => u.face_crop_id),
        [strangerSecond],
      );
      assert.equal(s.summary.unknown, 1);

      // Bob, Ann: matched in the second photo already, by another face: 409 naming it, nothing changed.
      for (const [who, other] of [
        ['bob', bobSecond],
        ['ann', annSecond],
      ] as const) {
        const err = assertError(
          await json('POST', `${SESSIONS}${id}/faces/${strangerSecond}/assign/`, { person_id: ids[who] }),
          409,
          'ConflictError',
        );
        assert.equal(err.details?.face_crop_id, other, err.message);
        assert.match(err.message, new RegExp(`face ${other}`));
      }
      assert.deepEqual(await read(id), s);
      // Cid is matched in the first photo only: the stranger's second face is theirs too.
      const again = await json('POST', `${SESSIONS}${id}/faces/${strangerSecond}/assign/`, { person_id: ids.cid });
      assert.equal(again.statusCode, 200, again.body);
      const after2 = await read(id);
      const answered = new Map(after2.photos.flatMap((p) => p.faces).map((f) => [f.face_crop_id, f.person_id]));
      assert.deepEqual([answered.get(strangerFirst), answered.get(strangerSecond)], [ids.cid, ids.cid]);
      assert.deepEqual([after2.summary.unknown, after2.unknown_faces.length], [0, 0]);
      const { clustered } = await assertClustersStrangersOnly(groupId, after2, [first, second]);
      assert.equal(clustered.size, 0);
    });
  });
}
