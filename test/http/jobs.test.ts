// Jobs over HTTP with the embedded engine and the real pool (one worker): create, follow to the
// end, result in the batch shape, idempotent re-run, list, cancel (an enrol job's too: final once
// cancelled), validation, and 503 when the
// process has no job engine.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/config.js';
import { createServices } from '../../src/main.js';
import type { JobsWiring } from '../../src/jobs.js';
import { watchJob } from '../../src/cli/commands/jobs.command.js';
import { JobRepository } from '../../src/repositories/job.repository.js';
import { appWithJobs } from '../helpers/app-with-jobs.js';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';
import { portrait } from '../helpers/composed-faces.js';
import {
  assertError,
  buildTestApp,
  CROPS,
  FACES,
  makeMediaRoot,
  silent,
  startEmbedder,
  type TestEmbedder,
} from './helper.js';

const JOBS = '/api/attendance/jobs/';
let emb: TestEmbedder;
before(async () => {
  emb = await startEmbedder();
});
after(() => emb?.close());

interface JobBody {
  id: number;
  status: string;
  progress: { total: number; done: number; failed: number };
  result?: { results: { face_crop_id: number; status: string; error?: { type: string } }[]; summary: object };
}

for (const target of DB_TARGETS) {
  describe(`jobs over HTTP (${target.name})`, { skip: target.skip }, () => {
    let app: FastifyInstance;
    let opened: OpenedDb;
    let mediaRoot: string;
    let jobs: JobsWiring;
    let services: ReturnType<typeof createServices>;
    before(async () => {
      opened = await target.open();
      mediaRoot = await makeMediaRoot();
      const config = loadConfig({ FACEEMBED_MEDIA_ROOT: mediaRoot, FACEEMBED_DATABASE_URL: opened.url }, mediaRoot);
      ({ services, jobs, app } = await appWithJobs({ config, db: opened.db, embedder: emb.embedder, logger: silent }));
    });
    after(async () => {
      await app?.close();
      await jobs?.close();
      await opened?.close();
      await rm(mediaRoot, { recursive: true, force: true });
    });

    const register = async (imagePath: string): Promise<number> => {
      const res = await app.inject({ method: 'POST', url: CROPS, payload: { image_path: imagePath } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id;
    };
    const until = async (id: number, ended = true): Promise<JobBody> => {
      for (;;) {
        const res = await app.inject({ method: 'GET', url: `${JOBS}${id}/` });
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as JobBody;
        if (!ended || !['queued', 'running'].includes(body.status)) return body;
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    /** Polls the job every 20 ms until `check` holds; fails after 60 s. */
    const poll = async (id: number, check: (j: JobBody) => boolean): Promise<JobBody> => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const body = await until(id, false);
        if (check(body)) return body;
        assert.ok(Date.now() < deadline, `job ${id} still ${body.status} ${JSON.stringify(body.progress)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    test('a job runs to the end; its result has the batch shape; a re-run finds everything existing', async () => {
      const a = await register(FACES.a1);
      const b = await register(FACES.a2);
      const broken = await register(FACES.png);
      const created = await app.inject({
        method: 'POST',
        url: JOBS,
        payload: { kind: 'generate-embeddings', face_crop_ids: [b, a, 999_999, a], model_name: 'facenet' },
      });
      assert.equal(created.statusCode, 202, created.body);
      const body = created.json() as JobBody & { kind: string; created_at: string };
      assert.equal(created.headers.location, `${JOBS}${body.id}/`);
      assert.equal(body.kind, 'generate-embeddings');
      assert.equal(body.status, 'queued');
      assert.deepEqual(body.progress, { total: 3, done: 0, failed: 0 });
      const done = await until(body.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.progress, { total: 3, done: 2, failed: 1 });
      assert.deepEqual(done.result!.summary, { generated: 2, existing: 0, failed: 1 });
      const missing = done.result!.results.find((r) => r.face_crop_id === 999_999)!;
      assert.equal(missing.error?.type, 'NotFoundError');

      const again = await app.inject({
        method: 'POST',
        url: `${CROPS}generate-embeddings-batch/`,
        payload: { face_crop_ids: [a, b, broken], async: true },
      });
      assert.equal(again.statusCode, 202, again.body);
      const second = await until(again.json().id);
      const statuses = Object.fromEntries(second.result!.results.map((r) => [r.face_crop_id, r.status]));
      assert.equal(statuses[a], 'existing');
      assert.equal(statuses[b], 'existing');
      assert.ok(['generated', 'failed'].includes(statuses[broken]!));

      const all = await app.inject({ method: 'POST', url: JOBS, payload: { kind: 'generate-embeddings', all: true } });
      assert.equal(all.statusCode, 202, all.body);
      assert.equal((all.json() as JobBody).progress.total, 3, 'every stored crop');
      await until(all.json().id);

      const listed = await app.inject({ method: 'GET', url: `${JOBS}?status=completed` });
      assert.equal(listed.statusCode, 200);
      assert.equal(listed.json().count, 3);
      assert.ok(listed.json().results.every((j: JobBody) => j.status === 'completed' && !j.result));
      const cancelEnded = await app.inject({ method: 'DELETE', url: `${JOBS}${body.id}/` });
      assert.equal(cancelEnded.statusCode, 200);
      assert.equal(cancelEnded.json().status, 'completed', 'an ended job stays as it ended');
    });

    test('an enrol job obeys cancel too: cancelling while photos are in flight, then cancelled for good', async () => {
      const photos: { imagePath: string; personId: number }[] = [];
      // One person per photo: an enrolment photo of a group would be refused as ambiguous.
      const portraits = ['faces/portrait-a.jpg', 'faces/portrait-b.jpg', 'faces/portrait-c.jpg'];
      for (const [k, face] of (['a', 'b', 'c'] as const).entries())
        await writeFile(path.join(mediaRoot, portraits[k]!), await portrait(face));
      // Enough photos that the cancel lands while many are left, however fast the pool is.
      for (let i = 0; i < 60; i++) {
        const person = await services.persons.ensure(`cancel-${target.name}-${i}`);
        photos.push({ imagePath: portraits[i % 3]!, personId: person.id });
      }
      const { job } = await jobs.service.createEnrolment(photos);
      await poll(job.id, (j) => j.progress.done + j.progress.failed >= 2);
      const cancelled = await app.inject({ method: 'DELETE', url: `${JOBS}${job.id}/` });
      assert.equal(cancelled.statusCode, 200);
      assert.ok(['cancelling', 'cancelled'].includes(cancelled.json().status), cancelled.body);
      // `faceembed jobs watch` follows it through cancelling and ends on cancelled (exit code 1).
      const watched = await watchJob(new JobRepository(opened.db), job.id, { print: false });
      assert.equal(process.exitCode, 1);
      process.exitCode = undefined;
      assert.equal(watched.status, 'cancelled');
      const body = await until(job.id, false);
      assert.equal(body.status, 'cancelled');
      const enrolled = () =>
        opened.db
          .selectFrom('face_crops')
          .where(
            'person_id',
            'in',
            photos.map((p) => p.personId),
          )
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow()
          .then((r) => Number(r.n));
      const first = { body, crops: await enrolled() };
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual({ body: await until(job.id, false), crops: await enrolled() }, first, 'nothing moved');
      assert.equal(body.progress.failed, 0, JSON.stringify(body.result));
      assert.ok(body.progress.done < photos.length, `stopped early (${body.progress.done} done)`);
      assert.equal(first.crops, body.progress.done, 'a face crop for every photo enrolled and none for the others');
    });

    test('validation, unknown model, unknown job', async () => {
      const post = (payload: object) => app.inject({ method: 'POST', url: JOBS, payload });
      for (const bad of [
        { kind: 'generate-embeddings' },
        { kind: 'generate-embeddings', all: true, face_crop_ids: [1] },
        { kind: 'nope', face_crop_ids: [1] },
        { kind: 'generate-embeddings', face_crop_ids: [] },
        { kind: 'generate-embeddings', face_crop_ids: [1], force_regenerate: 'yes' },
      ])
        assertError(await post(bad), 400, 'ValidationError');
      assertError(await post({ kind: 'generate-embeddings', all: true, model_name: 'nope' }), 400, 'ValueError');
      assertError(await app.inject({ method: 'GET', url: `${JOBS}424242/` }), 404, 'NotFoundError');
      assertError(await app.inject({ method: 'DELETE', url: `${JOBS}424242/` }), 404, 'NotFoundError');
      assertError(await app.inject({ method: 'GET', url: `${JOBS}?status=bogus` }), 400, 'ValidationError');
      assertError(
        await app.inject({
          method: 'POST',
          url: `${CROPS}generate-embeddings-batch/`,
          payload: { face_crop_ids: Array.from({ length: 1001 }, (_, i) => i + 1) },
        }),
        400,
        'ValidationError',
      );
    });
  });
}

describe('no job engine in the process', () => {
  test('async batches and jobs/ answer 503 ServiceUnavailableError with Retry-After', async () => {
    const t = await buildTestApp(DB_TARGETS[0]!, emb.embedder);
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: `${CROPS}generate-embeddings-batch/`,
        payload: { face_crop_ids: [1], async: true },
      });
      assertError(res, 503, 'ServiceUnavailableError');
      assert.ok(Number(res.headers['retry-after']) >= 1);
      assertError(await t.app.inject({ method: 'GET', url: JOBS }), 503, 'ServiceUnavailableError');
    } finally {
      await t.close();
    }
  });
});
