// Retention over HTTP on both databases and both job engines (embedded; BullMQ when the test
// Redis answers), with the real embedder: a purge job removes only what is past its time
// (created_at set back in the database), checked in the rows and the media directory; its
// report equals what went and is audited; a dry run removes nothing and counts the same;
// enrolment faces are never purged; the schedule queues a purge by itself.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/config.js';
import type { JobsWiring } from '../../src/jobs.js';
import { createServices } from '../../src/main.js';
import type { Database } from '../../src/repositories/database.js';
import { GroupRepository } from '../../src/repositories/group.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { scheduleRetention } from '../../src/services/retention-schedule.js';
import { DATASET, DATASET_SKIP } from '../helpers/paths.js';
import { TEST_QUEUE_URL, dropKeys, redisSkip } from '../helpers/redis-keys.js';
import { appWithJobs } from '../helpers/app-with-jobs.js';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';
import { classPhoto } from './class-photo.js';
import { form, makeMediaRoot, silent, startEmbedder, type TestEmbedder } from './helper.js';

const DAY_MS = 86_400_000;
const RETENTION = {
  FACEEMBED_RETAIN_PHOTOS_DAYS: '30',
  FACEEMBED_RETAIN_SESSION_FACES_DAYS: '60',
  FACEEMBED_RETAIN_UNKNOWN_FACES_DAYS: '30',
};

let emb: TestEmbedder;
before(async () => {
  if (!DATASET_SKIP) emb = await startEmbedder();
});
after(() => emb?.close());

const REDIS_SKIP = await redisSkip();
const ENGINES = [
  { name: 'embedded', skip: false as string | false },
  { name: 'bullmq', skip: REDIS_SKIP },
];

/** Sets a row's stored time back by `days` (what the purge compares against). */
async function age(db: Database, table: 'face_crops' | 'session_photos', ids: readonly number[], days: number) {
  const at = new Date(Date.now() - days * DAY_MS).toISOString();
  await sql`update ${sql.table(table)} set created_at = ${at} where id in (${sql.join(ids)})`.execute(db);
}

const count = async (db: Database, query: string, ids: readonly number[]) =>
  Number((await sql<{ n: string | number }>`${sql.raw(query)} (${sql.join(ids)})`.execute(db)).rows[0]!.n);

for (const target of DB_TARGETS) {
  for (const engine of ENGINES) {
    const skip = DATASET_SKIP || target.skip || engine.skip;
    describe(`retention purge (${target.name}, ${engine.name} engine)`, { skip }, () => {
      let app: FastifyInstance;
      let opened: OpenedDb;
      let mediaRoot: string;
      let jobs: JobsWiring;
      let services: ReturnType<typeof createServices>;
      const prefix = `fe-retention-test-${process.pid}-${target.name}`;
      const ids = { ann: 0, session: 0, oldPhoto: 0, newPhoto: 0, annFace: 0, newcomer: 0, visitor: 0, enrolment: 0 };
      const paths = { oldPhoto: '', newPhoto: '', annFace: '', newcomer: '', visitor: '', enrolment: '' };

      const json = (method: 'POST' | 'GET', url: string, payload?: object) =>
        app.inject({ method, url, ...(payload ? { payload } : {}) });
      const onDisk = (p: string) => existsSync(path.join(mediaRoot, p));
      const cropPath = async (id: number) =>
        (await opened.db.selectFrom('face_crops').select('image_path').where('id', '=', id).executeTakeFirstOrThrow())
          .image_path;
      const crops = async (list: number[]) =>
        (await opened.db.selectFrom('face_crops').select('id').where('id', 'in', list).orderBy('id').execute()).map(
          (r) => Number(r.id),
        );
      const runPurgeJob = async () => {
        const res = await json('POST', '/api/attendance/retention/purge/');
        assert.equal(res.statusCode, 202, res.body);
        assert.equal(res.headers.location, `/api/attendance/jobs/${res.json().id}/`);
        const deadline = Date.now() + 60_000;
        for (;;) {
          const job = (await json('GET', res.headers.location as string)).json();
          if (job.status === 'completed') return job;
          assert.ok(!['failed', 'cancelled'].includes(job.status), JSON.stringify(job));
          assert.ok(Date.now() < deadline, 'purge job did not finish');
          await new Promise((r) => setTimeout(r, 100));
        }
      };

      before(async () => {
        opened = await target.open();
        mediaRoot = await makeMediaRoot();
        const queue =
          engine.name === 'bullmq' ? { FACEEMBED_QUEUE_URL: TEST_QUEUE_URL, FACEEMBED_QUEUE_PREFIX: prefix } : {};
        const config = loadConfig(
          { FACEEMBED_MEDIA_ROOT: mediaRoot, FACEEMBED_DATABASE_URL: opened.url, ...RETENTION, ...queue },
          mediaRoot,
        );
        ({ services, jobs, app } = await appWithJobs({
          config,
          db: opened.db,
          embedder: emb.embedder,
          logger: silent,
        }));

        ids.ann = (await new PersonRepository(opened.db).create({ name: 'ann' })).id;
        const groups = new GroupRepository(opened.db);
        const groupId = (await groups.create({ name: '3b' })).id;
        await groups.addMembers(groupId, [ids.ann]);
        const enrol = await app.inject({
          method: 'POST',
          url: `/api/attendance/persons/${ids.ann}/faces/`,
          ...(await form({ image: { data: await readFile(path.join(DATASET, 'img1.jpg')), filename: 'a.jpg' } })),
        });
        assert.equal(enrol.statusCode, 201, enrol.body);
        ids.enrolment = enrol.json().face_crop_id;
        ids.session = (await json('POST', '/api/attendance/sessions/', { group_id: groupId })).json().id;
        const upload = async (files: string[]) => {
          const res = await app.inject({
            method: 'POST',
            url: `/api/attendance/sessions/${ids.session}/photos/`,
            ...(await form({ image: { data: await classPhoto(files), filename: 'c.jpg' } })),
          });
          assert.equal(res.statusCode, 201, res.body);
          return res.json() as { photo_id: number; faces: { face_crop_id: number; status: string }[] };
        };
        const old = await upload(['img2.jpg', 'img29.jpg']); // ann and a newcomer, 40 days ago
        const recent = await upload(['img34.jpg']); // a visitor, today
        ids.oldPhoto = old.photo_id;
        ids.newPhoto = recent.photo_id;
        ids.annFace = old.faces.find((f) => f.status !== 'unknown')!.face_crop_id;
        ids.newcomer = old.faces.find((f) => f.status === 'unknown')!.face_crop_id;
        ids.visitor = recent.faces[0]!.face_crop_id;
        for (const key of ['annFace', 'newcomer', 'visitor', 'enrolment'] as const)
          paths[key] = await cropPath(ids[key]);
        for (const [key, id] of [
          ['oldPhoto', ids.oldPhoto],
          ['newPhoto', ids.newPhoto],
        ] as const)
          paths[key] = (
            await opened.db
              .selectFrom('session_photos')
              .select('image_path')
              .where('id', '=', id)
              .executeTakeFirstOrThrow()
          ).image_path;
        await age(opened.db, 'session_photos', [ids.oldPhoto], 40);
        await age(opened.db, 'face_crops', [ids.annFace, ids.newcomer], 40);
        // Enrolment faces are never purged, however old.
        await age(opened.db, 'face_crops', [ids.enrolment], 400);
        // The newcomer's face is placed in a cluster (listing places what waits).
        assert.equal((await json('GET', `/api/attendance/groups/${groupId}/unknown-clusters/`)).statusCode, 200);
      });
      after(async () => {
        await app?.close();
        await jobs?.close();
        await opened?.close();
        if (mediaRoot) await rm(mediaRoot, { recursive: true, force: true });
        if (engine.name === 'bullmq') await dropKeys(prefix);
      });

      test('GET retention/: the schedule, no purge yet', async () => {
        const body = (await json('GET', '/api/attendance/retention/')).json();
        assert.deepEqual(body, {
          schedule: { photos_days: 30, session_faces_days: 60, unknown_faces_days: 30 },
          interval_hours: 24,
          enforced: true,
          last_purge: null,
        });
      });

      test('a dry run counts what a purge removes and removes nothing; the purge job removes exactly that', async () => {
        const all = [ids.annFace, ids.newcomer, ids.visitor, ids.enrolment];
        const embeddings = await count(opened.db, 'select count(*) as n from face_embeddings where face_crop_id in', [
          ids.newcomer,
        ]);
        const clusterFaces = await count(
          opened.db,
          'select count(*) as n from unknown_cluster_faces where face_crop_id in',
          [ids.newcomer],
        );
        assert.ok(embeddings >= 1 && clusterFaces === 1, `${embeddings} ${clusterFaces}`);
        const expected = { photos: 1, face_crops: 1, embeddings, cluster_faces: clusterFaces, files: 2 };

        const dry = await json('POST', '/api/attendance/retention/purge/', { dry_run: true });
        assert.equal(dry.statusCode, 200, dry.body);
        assert.equal(dry.json().dry_run, true);
        assert.deepEqual(dry.json().removed, expected);
        assert.deepEqual((await crops(all)).sort(), [...all].sort(), 'a dry run deletes no row');
        for (const p of Object.values(paths)) assert.ok(onDisk(p), p);

        const job = await runPurgeJob();
        assert.equal(job.kind, 'purge');
        assert.equal(job.result.dry_run, false);
        assert.deepEqual(job.result.removed, expected);
        // Only what was past its time went: the old photo's file and the old unknown face.
        assert.deepEqual((await crops(all)).sort(), [ids.annFace, ids.visitor, ids.enrolment].sort());
        assert.equal(
          await count(opened.db, 'select count(*) as n from face_embeddings where face_crop_id in', [ids.newcomer]),
          0,
        );
        assert.equal(
          await count(opened.db, 'select count(*) as n from unknown_cluster_faces where face_crop_id in', [
            ids.newcomer,
          ]),
          0,
        );
        assert.ok(!onDisk(paths.oldPhoto) && !onDisk(paths.newcomer));
        for (const key of ['newPhoto', 'annFace', 'visitor', 'enrolment'] as const) assert.ok(onDisk(paths[key]), key);
        const photo = await opened.db
          .selectFrom('session_photos')
          .select(['id', 'purged_at'])
          .where('session_id', '=', ids.session)
          .orderBy('id')
          .execute();
        assert.deepEqual(
          photo.map((p) => [Number(p.id), p.purged_at !== null]),
          [
            [ids.oldPhoto, true],
            [ids.newPhoto, false],
          ],
        );
        // Audited with the counts; GET retention/ shows it.
        const retention = (await json('GET', '/api/attendance/retention/')).json();
        assert.deepEqual(retention.last_purge.removed, expected);
        assert.equal(retention.last_purge.actor, 'anonymous');
        const audit = await opened.db
          .selectFrom('audit_events')
          .select('after')
          .where('action', '=', 'purged')
          .execute();
        assert.equal(audit.length, 1);
        assert.deepEqual(JSON.parse(audit[0]!.after!).removed, expected);
      });

      test('a matched face past the session-face period goes; the attendance fact stays', async () => {
        await age(opened.db, 'face_crops', [ids.annFace], 70);
        const job = await runPurgeJob();
        assert.deepEqual(job.result.removed, {
          photos: 0,
          face_crops: 1,
          embeddings: job.result.removed.embeddings,
          cluster_faces: 0,
          files: 1,
        });
        assert.ok(job.result.removed.embeddings >= 1);
        assert.deepEqual(await crops([ids.annFace]), []);
        assert.ok(!onDisk(paths.annFace));
        const row = await opened.db
          .selectFrom('attendance')
          .select(['status', 'face_crop_id'])
          .where('person_id', '=', ids.ann)
          .executeTakeFirstOrThrow();
        assert.deepEqual([row.status, row.face_crop_id], ['present', null]);
        // Nothing more is due: a third purge removes nothing.
        const again = await runPurgeJob();
        assert.deepEqual(again.result.removed, { photos: 0, face_crops: 0, embeddings: 0, cluster_faces: 0, files: 0 });
        assert.deepEqual(
          await crops([ids.visitor, ids.enrolment]),
          [ids.visitor, ids.enrolment].sort((a, b) => a - b),
        );
      });

      test('the schedule queues a purge by itself (actor system)', async () => {
        const schedule = scheduleRetention({
          jobs: jobs.service,
          retention: services.retention,
          log: silent,
          firstDelayMs: 0,
        });
        try {
          const deadline = Date.now() + 30_000;
          for (;;) {
            const done = await opened.db
              .selectFrom('audit_events')
              .select('id')
              .where('action', '=', 'purged')
              .where('actor', '=', 'system')
              .execute();
            if (done.length > 0) break;
            assert.ok(Date.now() < deadline, 'no scheduled purge ran');
            await new Promise((r) => setTimeout(r, 100));
          }
        } finally {
          schedule.stop();
        }
      });
    });
  }
}
