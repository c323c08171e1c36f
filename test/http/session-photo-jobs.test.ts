// Class photos as jobs (async uploads) over HTTP on both databases, embedded engine, real pool:
// 202 + Location, the job's result equal to the synchronous 201 body, a burst to two sessions
// ending as the same photos one by one, and bad input refused at once or failing the job with
// nothing left behind.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/config.js';
import { buildApp, type AppServices } from '../../src/http/app.js';
import { startJobs, type JobsWiring } from '../../src/jobs.js';
import { createServices } from '../../src/main.js';
import { ATTENDANCE_MODEL_NAME, ModelRegistry } from '../../src/models/registry.js';
import { GroupRepository } from '../../src/repositories/group.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { DATASET, DATASET_SKIP, sample } from '../helpers/paths.js';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';
import { classPhoto } from './class-photo.js';
import { assertError, CROPS, form, makeMediaRoot, silent, startEmbedder, type TestEmbedder } from './helper.js';

const SESSIONS = '/api/attendance/sessions/';
const JOBS = '/api/attendance/jobs/';
const ENROL = { ann: 'img1.jpg', bob: 'img3.jpg', cid: 'img8.jpg' };

interface Face {
  face_crop_id: number;
  box: number[];
  person_id: number | null;
  status: string;
}
interface PhotoBody {
  photo_id: number;
  width: number;
  height: number;
  duration_ms: number;
  faces: Face[];
}

let emb: TestEmbedder;
before(async () => {
  if (!DATASET_SKIP) emb = await startEmbedder();
});
after(() => emb?.close());

for (const target of DB_TARGETS) {
  describe(`class photos as jobs (${target.name})`, { skip: DATASET_SKIP || target.skip }, () => {
    let opened: OpenedDb;
    let mediaRoot: string;
    const apps: { app: FastifyInstance; jobs: JobsWiring; services: AppServices }[] = [];
    let app: FastifyInstance;
    let groupId = 0;
    const photos: Buffer[] = [];

    /** An app with the embedded engine over the shared database and media root. */
    const start = async (env: Record<string, string> = {}) => {
      const config = loadConfig(
        { FACEEMBED_MEDIA_ROOT: mediaRoot, FACEEMBED_DATABASE_URL: opened.url, FACEEMBED_LOG_LEVEL: 'silent', ...env },
        mediaRoot,
      );
      const services = createServices({ db: opened.db, embedder: emb.embedder, config });
      const { faceCrops: crops, persons, sessions, retention } = services;
      const deps = { config, db: opened.db, embedder: emb.embedder, logger: silent };
      const jobs = await startJobs({ ...deps, crops, persons, sessions, retention, runsJobs: true });
      const built = await buildApp({ ...deps, services: () => services, jobs: jobs.service });
      apps.push({ app: built, jobs, services });
      return built;
    };

    before(async () => {
      opened = await target.open();
      mediaRoot = await makeMediaRoot();
      app = await start();
      const persons = new PersonRepository(opened.db);
      const groups = new GroupRepository(opened.db);
      groupId = (await groups.create({ name: '4a' })).id;
      for (const [name, file] of Object.entries(ENROL)) {
        const id = (await persons.create({ name })).id;
        await groups.addMembers(groupId, [id]);
        const data = await readFile(path.join(DATASET, file));
        const res = await app.inject({
          method: 'POST',
          url: CROPS,
          ...(await form({ image: { data, filename: 'x.jpg' }, person_id: String(id) })),
        });
        assert.equal(res.statusCode, 201, res.body);
      }
      photos.push(await classPhoto(['img2.jpg', 'img12.jpg', 'img27.jpg'])); // ann, bob, a stranger
      photos.push(await classPhoto(['img4.jpg', 'img9.jpg'])); // ann again, cid
      photos.push(await classPhoto(['img26.jpg', 'img13.jpg'])); // the stranger again, bob again
    });
    after(async () => {
      for (const a of apps) {
        await a.app.close();
        await a.jobs.close();
      }
      await opened?.close();
    });

    const newSession = async () => {
      const res = await app.inject({ method: 'POST', url: SESSIONS, payload: { group_id: groupId } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as number;
    };
    const upload = async (id: number, data: Buffer, how: 'sync' | 'field' | 'query', on = app) =>
      on.inject({
        method: 'POST',
        url: `${SESSIONS}${id}/photos/${how === 'query' ? '?async=true' : ''}`,
        ...(await form({ image: { data, filename: 'c.jpg' }, ...(how === 'field' && { async: 'true' }) })),
      });
    const until = async (jobId: number) => {
      for (;;) {
        const body = (await app.inject({ method: 'GET', url: `${JOBS}${jobId}/` })).json();
        if (!['queued', 'running'].includes(body.status)) return body;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const attendance = async (id: number) => {
      const s = (await app.inject({ method: 'GET', url: `${SESSIONS}${id}/` })).json();
      return {
        rows: s.attendance.map((r: { person_id: number; status: string }) => [r.person_id, r.status]),
        summary: s.summary,
        faces: s.photos.reduce((n: number, p: { faces: unknown[] }) => n + p.faces.length, 0),
      };
    };
    const uploadsCount = async () => (await readdir(path.join(mediaRoot, 'uploads'))).length;
    const sameFaces = (a: PhotoBody, b: PhotoBody) =>
      assert.deepEqual(
        a.faces.map((f) => [f.box, f.person_id, f.status]),
        b.faces.map((f) => [f.box, f.person_id, f.status]),
      );

    test('an async upload answers 202 + Location; the job result is the synchronous body', async () => {
      const syncSession = await newSession();
      const sync = await upload(syncSession, photos[0]!, 'sync');
      assert.equal(sync.statusCode, 201, sync.body);

      for (const how of ['field', 'query'] as const) {
        const id = await newSession();
        const res = await upload(id, photos[0]!, how);
        assert.equal(res.statusCode, 202, res.body);
        const accepted = res.json();
        assert.equal(accepted.status, 'queued');
        assert.equal(accepted.kind, 'session-photo');
        assert.equal(accepted.session_id, id);
        // The session's model: the attendance default, by the name it was asked under and its true name.
        assert.deepEqual(
          [accepted.model_name, accepted.model_true_name],
          [ATTENDANCE_MODEL_NAME, new ModelRegistry().get(ATTENDANCE_MODEL_NAME).name],
        );
        assert.equal(res.headers.location, `${JOBS}${accepted.job_id}/`);
        const job = await until(accepted.job_id);
        assert.equal(job.status, 'completed', JSON.stringify(job));
        assert.deepEqual(job.progress, { total: 1, done: 1, failed: 0 });
        const result = job.result as PhotoBody;
        assert.deepEqual(Object.keys(result).sort(), Object.keys(sync.json()).sort());
        sameFaces(result, sync.json());
        const session = (await app.inject({ method: 'GET', url: `${SESSIONS}${id}/` })).json();
        assert.deepEqual(
          session.photos.map((p: { photo_id: number }) => p.photo_id),
          [result.photo_id],
        );
      }
    });

    test('a burst to two sessions, on two servers, ends as the same photos one by one', async () => {
      const sequential = await newSession();
      for (const p of photos) assert.equal((await upload(sequential, p, 'sync')).statusCode, 201);
      const expected = await attendance(sequential);

      const twin = await start();
      const burst = [await newSession(), await newSession()];
      const sent = await Promise.all(
        burst.flatMap((id, s) => photos.map((p, i) => upload(id, p, 'field', (i + s) % 2 ? twin : app))),
      );
      for (const res of sent) assert.equal(res.statusCode, 202, res.body);
      const ended = await Promise.all(sent.map((res) => until(res.json().job_id as number)));
      for (const job of ended) assert.equal(job.status, 'completed', JSON.stringify(job));
      for (const id of burst) assert.deepEqual(await attendance(id), expected);
    });

    test('a queued photo run twice, even at once (a node died after its commit), is stored once', async () => {
      const id = await newSession();
      const { sessions } = apps[0]!.services;
      const before = await uploadsCount();
      const staged = await sessions.stageUpload(Readable.from([photos[0]!]));
      const { file } = await sessions.acceptUpload(id, staged);
      const [a, b] = await Promise.all([
        sessions.addQueuedPhoto(id, file.relPath, 'test'),
        sessions.addQueuedPhoto(id, file.relPath, 'test'),
      ]);
      const again = await sessions.addQueuedPhoto(id, file.relPath, 'test');
      assert.deepEqual([b.photoId, again.photoId], [a.photoId, a.photoId]);
      assert.deepEqual(
        again.faces.map((f) => [f.faceCropId, f.personId]),
        a.faces.map((f) => [f.faceCropId, f.personId]),
      );
      const stored = await attendance(id);
      assert.equal(stored.faces, a.faces.length, 'each face stored once');
      assert.equal(await uploadsCount(), before + 1 + a.faces.length, 'one photo file and one crop per face');
    });

    test('bad input: refused at once, a photo that cannot decode too (it is decoded when stored), leaving nothing', async () => {
      const id = await newSession();
      const before = await uploadsCount();
      assertError(await upload(id, Buffer.from('not an image at all'), 'field'), 422, 'ImageDecodeError');
      assertError(await upload(999_999, photos[0]!, 'query'), 404, 'NotFoundError');
      const small = await start({ FACEEMBED_MAX_IMAGE_PIXELS: '100000' });
      assertError(await upload(id, photos[0]!, 'field', small), 413, 'ImageTooLargeError');
      const full = await start({ FACEEMBED_MAX_QUEUED_PHOTOS: '0' });
      for (const how of ['field', 'query'] as const) {
        const res = await upload(id, photos[0]!, how, full);
        assertError(res, 503, 'ServiceUnavailableError');
        assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After');
      }
      assert.equal(await uploadsCount(), before);

      const jpeg = await readFile(sample(1));
      const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 3));
      // Stored upright without metadata, the photo is decoded in full before the 202.
      assertError(await upload(id, truncated, 'field'), 422, 'ImageDecodeError');
      assert.equal(await uploadsCount(), before, 'no photo file is left');
      assert.equal((await attendance(id)).faces, 0);

      const closed = await newSession();
      await app.inject({ method: 'POST', url: `${SESSIONS}${closed}/close/` });
      assertError(await upload(closed, photos[0]!, 'field'), 409, 'ConflictError');
      assertError(await upload(closed, photos[0]!, 'query'), 409, 'ConflictError');
      const maybe = await app.inject({
        method: 'POST',
        url: `${SESSIONS}${id}/photos/`,
        ...(await form({ image: { data: photos[0]!, filename: 'c.jpg' }, async: 'maybe' })),
      });
      assertError(maybe, 400, 'ValidationError');
      assert.equal(await uploadsCount(), before);
    });
  });
}
