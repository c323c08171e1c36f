// Several `faceembed serve` processes on one PostgreSQL database (issue 15, item 4): an enrolment,
// a person's deletion or an un-enrolment through one server reaches the other's search gallery
// within a second, both ways. Run once with the PostgreSQL LISTEN/NOTIFY change bus and once
// with Redis pub/sub (FACEEMBED_QUEUE_URL set). Two real servers per bus, reused by every round.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { QUEUE_NAME, redisOptions } from '../../src/queue/bullmq-job-engine.js';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';
import { portrait } from '../helpers/composed-faces.js';
import { workspace, writeMedia, type Workspace } from './helpers/fixtures.js';
import { Api } from './helpers/http.js';
import { Section } from './helpers/report.js';
import { ServerProcess } from './helpers/server.js';

const FILE = 'gallery-sync.test.js';
const SHARED_REDIS = process.env.FACEEMBED_TEST_QUEUE_URL ?? 'redis://127.0.0.1:6379/5';
const PREFIX = `fe-test-gallery-${process.pid}`;
const DEADLINE_MS = 1000;
const PERSONS = '/api/attendance/persons/';
const IDENTIFY = '/api/attendance/identify/';

const postgres = DB_TARGETS.find((t) => t.name === 'postgres')!;
function redisSkip(): string | false {
  try {
    execFileSync('redis-cli', ['-u', SHARED_REDIS, 'ping'], { stdio: 'pipe', timeout: 5000 });
    return false;
  } catch {
    return `Redis not reachable at ${SHARED_REDIS} (or redis-cli missing): the Redis bus run is skipped`;
  }
}

const BUSES: { name: string; env: Record<string, string>; skip: string | false }[] = [
  { name: 'PostgreSQL LISTEN/NOTIFY', env: {}, skip: postgres.skip },
  {
    name: 'Redis pub/sub',
    env: { FACEEMBED_QUEUE_URL: SHARED_REDIS, FACEEMBED_QUEUE_PREFIX: PREFIX },
    skip: postgres.skip || redisSkip(),
  },
];

const section = new Section(
  '6-gallery-sync',
  '6. Several servers on one PostgreSQL: search galleries stay current',
  'Two `faceembed serve` processes (one worker each) on one PostgreSQL database and media root, their ' +
    'galleries loaded. A person is enrolled (a photo upload) through one and searched for through the other ' +
    `by identifying a stored crop of the same photo, polled until it answers (deadline ${DEADLINE_MS} ms); then ` +
    'removed through one and polled on the other until it is gone. Once per change bus.',
  FILE,
);
after(() => section.save());
if (BUSES.every((b) => b.skip)) section.skip(String(BUSES.find((b) => b.skip)!.skip));

interface Identified {
  faces: { person_id: number | null; matches: { person_id: number }[] }[];
}

for (const bus of BUSES) {
  describe(`two servers on one PostgreSQL, ${bus.name}`, { skip: bus.skip }, () => {
    let ws: Workspace;
    let opened: OpenedDb;
    let a: ServerProcess;
    let b: ServerProcess;

    before(async () => {
      ws = await workspace('gallery-sync');
      opened = await postgres.open();
      for (const [n, face] of [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ] as const)
        await writeMedia(ws.mediaRoot, `faces/p${n}.jpg`, await portrait(face));
      const opts = {
        databaseUrl: opened.url,
        mediaRoot: ws.mediaRoot,
        modelsDir: ws.modelsDir,
        cwd: ws.dir,
        env: { FACEEMBED_WORKERS: '1', ...bus.env },
      };
      [a, b] = await Promise.all([ServerProcess.start(opts), ServerProcess.start(opts)]);
    });
    after(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await opened?.close();
      await ws?.close();
      if ('FACEEMBED_QUEUE_URL' in bus.env) {
        const q = new Queue(QUEUE_NAME, { connection: redisOptions(SHARED_REDIS), prefix: PREFIX });
        await q.obliterate({ force: true }).catch(() => undefined);
        await q.close();
      }
    });

    /** Who the server finds for the stored crop. */
    const identify = async (api: Api, faceCropId: number): Promise<Identified> => {
      const r = await api.post(IDENTIFY, { face_crop_id: faceCropId, top_k: 5 });
      assert.equal(r.status, 200, r.text);
      return r.json as Identified;
    };
    const finds = (answer: Identified, personId: number) => answer.faces[0]!.person_id === personId;
    const lists = (answer: Identified, personId: number) =>
      answer.faces[0]!.matches.some((m) => m.person_id === personId);

    /** Polls until `ok`; the time it took from `since`, or a failure past the deadline. */
    const within = async (api: Api, faceCropId: number, ok: (a: Identified) => boolean, since: number) => {
      for (;;) {
        const answer = await identify(api, faceCropId);
        const ms = performance.now() - since;
        if (ok(answer)) return ms;
        if (ms > DEADLINE_MS)
          assert.fail(`not seen by the other server within ${DEADLINE_MS} ms: ${JSON.stringify(answer)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    /** A new person enrolled from `image` through `via`; the stored crop (same photo) that searches for them. */
    const enrol = async (via: Api, image: string, name: string) => {
      const query = await via.register(image);
      // Both galleries loaded (the query's embedding too), and neither knows the person yet.
      for (const server of [a, b]) await identify(new Api(server.baseUrl), query);
      const person = await via.post(PERSONS, { name });
      assert.equal(person.status, 201, person.text);
      const personId = (person.json as { id: number }).id;
      const fd = new FormData();
      fd.append('image', new Blob([await readFile(path.join(ws.mediaRoot, image))]), 'enrol.jpg');
      const enrolled = await via.call('POST', `${PERSONS}${personId}/faces/`, { form: fd });
      assert.equal(enrolled.status, 201, enrolled.text);
      return { personId, query, faceCropId: (enrolled.json as { face_crop_id: number }).face_crop_id };
    };

    test('an enrolment, a deletion and an un-enrolment through one server reach the other within 1 s, both ways', async () => {
      const servers = { A: new Api(a.baseUrl), B: new Api(b.baseUrl) };
      const times: string[] = [];
      type Name = keyof typeof servers;
      const other = (n: Name): Name => (n === 'A' ? 'B' : 'A');
      /** Enrol through `enrolVia`, seen on the other; remove through `removeVia`, gone on the other. */
      const round = async (image: string, enrolVia: Name, removeVia: Name, removal: 'person' | 'face') => {
        const p = await enrol(servers[enrolVia], `faces/${image}.jpg`, `person ${image}`);
        const seenMs = await within(servers[other(enrolVia)], p.query, (x) => finds(x, p.personId), performance.now());
        times.push(`enrolled via ${enrolVia}, seen on ${other(enrolVia)} ${Math.round(seenMs)} ms`);
        const url =
          removal === 'person' ? `${PERSONS}${p.personId}/` : `${PERSONS}${p.personId}/faces/${p.faceCropId}/`;
        const removed = await servers[removeVia].call('DELETE', url);
        assert.equal(removed.status, 204, removed.text);
        const goneMs = await within(
          servers[other(removeVia)],
          p.query,
          (x) => !lists(x, p.personId),
          performance.now(),
        );
        times.push(
          `${removal === 'person' ? 'person deleted' : 'face un-enrolled'} via ${removeVia}, gone on ${other(removeVia)} ${Math.round(goneMs)} ms`,
        );
      };
      await section.check(
        `${bus.name}: enrol through A, identify through B; delete the person through B, identify through A; ` +
          'the same with A and B swapped; enrol through A and un-enrol the face through B',
        `each change is seen by the other server within ${DEADLINE_MS} ms`,
        async () => {
          await round('p1', 'A', 'B', 'person');
          await round('p2', 'B', 'A', 'person');
          await round('p3', 'A', 'B', 'face');
          return `each of the 6 changes seen by the other server within ${DEADLINE_MS} ms`;
        },
      );
      section.measure(`${bus.name}: ${times.join('; ')} (from the change's answer to the first identify showing it)`);
    });
  });
}
