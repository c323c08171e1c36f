// Scoped keys on both databases (docs/api.md "Keys and roles"). The walk goes through the whole
// route table as the app registered it: with a teacher key of group A, every /api route that
// names a resource of group B (a path, body or query id) answers 403 ForbiddenError, every
// admin-only route answers 403, and every list leaves B's rows out. A route that declares no
// access stops the app from starting. Then: in-scope work succeeds, a reader cannot write, a
// key given only as key_sha256 works, the audit actor is the key's name, a teacher's job is capped.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sha256Hex } from '../../src/config/api-keys.js';
import { loadConfig } from '../../src/config/config.js';
import type { AccessEntry, Refs } from '../../src/http/plugins/access.js';
import type { JobsWiring } from '../../src/jobs.js';
import { createServices } from '../../src/main.js';
import type { ResourceKind } from '../../src/services/access.service.js';
import { sample } from '../helpers/paths.js';
import { appWithJobs } from '../helpers/app-with-jobs.js';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';
import { assertError, form, makeMediaRoot, silent, startEmbedder, type TestEmbedder } from './helper.js';

const API = '/api/attendance';
const KEYS = { admin: 'admin-key-0123', teacher: 'teacher-a-key-0123', reader: 'reader-a-key-0123' };
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

let emb: TestEmbedder;
before(async () => {
  emb = await startEmbedder();
});
after(() => emb?.close());

type Ids = Record<ResourceKind, number[]>;

/** A value for a schema, with B's ids in the fields the declaration names. */
function sampleOf(schema: unknown, refs: Refs, b: Ids, field?: string): unknown {
  const s = (schema ?? {}) as Record<string, unknown>;
  const kind = field === undefined ? undefined : refs[field];
  if (kind) return s.type === 'array' ? b[kind].slice(0, Math.max(1, Number(s.minItems ?? 1))) : b[kind][0];
  const branches = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (branches) {
    // The branch that names the most resources, so the check has something to refuse.
    const score = (x: unknown) =>
      Object.keys((x as { properties?: object }).properties ?? {}).filter((k) => refs[k]).length;
    const best = [...branches]
      .filter((x) => (x as { type?: string }).type !== 'null')
      .sort((x, y) => score(y) - score(x))[0];
    return sampleOf(best, refs, b, field);
  }
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = (s.required ?? []) as string[];
      for (const [k, sub] of Object.entries((s.properties ?? {}) as Record<string, unknown>))
        if (required.includes(k) || refs[k]) out[k] = sampleOf(sub, refs, b, k);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(1, Number(s.minItems ?? 1)) }, () => sampleOf(s.items, refs, b));
    case 'integer':
    case 'number':
      return Number(s.minimum ?? 1);
    case 'boolean':
      return false;
    case 'string':
      return 'x'.repeat(Math.max(1, Number(s.minLength ?? 1)));
  }
  return undefined;
}

/** What each unscoped list must not show of group B, and how to read it from the answer. */
type Listed = { results: Record<string, number>[]; role?: string; name?: string };
const hides =
  (kind: ResourceKind, field = 'id') =>
  (body: Listed, b: Ids) =>
    assert.ok(!body.results.some((r) => b[kind].includes(r[field]!)), JSON.stringify(body.results));
const LISTS: Record<string, (body: Listed, b: Ids) => void> = {
  [`GET ${API}/groups/`]: hides('group'),
  [`GET ${API}/persons/`]: hides('person'),
  [`GET ${API}/sessions/`]: hides('session'),
  [`GET ${API}/face-crops/`]: hides('face-crop'),
  [`GET ${API}/jobs/`]: hides('job'),
  [`GET ${API}/audit/`]: hides('session', 'session_id'),
  [`GET ${API}/me/`]: (body) => assert.deepEqual([body.role, body.name], ['teacher', 'teach-a']),
};

for (const target of DB_TARGETS) {
  describe(`scoped keys (${target.name})`, { skip: target.skip }, () => {
    let app: FastifyInstance;
    let opened: OpenedDb;
    let mediaRoot: string;
    let keyDir: string;
    let jobs: JobsWiring;
    const a = {} as Ids;
    const b = {} as Ids;
    const call = (key: string, method: string, url: string, payload?: object) =>
      app.inject({ method: method as 'GET', url, headers: auth(key), ...(payload && { payload }) });
    const ok = async (res: Promise<LightMyRequestResponse>, status = 200) => {
      const r = await res;
      assert.equal(r.statusCode, status, r.body);
      return r.json();
    };

    before(async () => {
      opened = await target.open();
      mediaRoot = await makeMediaRoot();
      const plain = loadConfig({ FACEEMBED_MEDIA_ROOT: mediaRoot, FACEEMBED_DATABASE_URL: opened.url }, mediaRoot);
      const setup = createServices({ db: opened.db, embedder: emb.embedder, config: plain });
      const [groupA, groupB] = [await setup.groups.create({ name: 'A' }), await setup.groups.create({ name: 'B' })];
      keyDir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-keys-'));
      const keyFile = path.join(keyDir, 'keys.json');
      await writeFile(
        keyFile,
        JSON.stringify([
          { name: 'boss', key: KEYS.admin, role: 'admin' },
          { name: 'teach-a', key: KEYS.teacher, role: 'teacher', groups: [groupA.id] },
          // Only the digest: the reader's key itself is nowhere on the server.
          { name: 'read-a', key_sha256: sha256Hex(KEYS.reader), role: 'reader', groups: [groupA.id] },
        ]),
      );
      const config = loadConfig(
        {
          FACEEMBED_MEDIA_ROOT: mediaRoot,
          FACEEMBED_DATABASE_URL: opened.url,
          FACEEMBED_API_KEYS_FILE: keyFile,
          FACEEMBED_TEACHER_MAX_JOB_ITEMS: '3',
        },
        mediaRoot,
      );
      ({ jobs, app } = await appWithJobs({ config, db: opened.db, embedder: emb.embedder, logger: silent }));

      // The same world in both groups, made by the admin: a member with an enrolment crop, a
      // session with a class photo (its faces are crops too), a job.
      for (const [ids, group, n] of [
        [a, groupA, 1],
        [b, groupB, 2],
      ] as const) {
        ids.group = [group.id];
        const person = await ok(
          call(KEYS.admin, 'POST', `${API}/persons/`, { name: `p${n}`, group_id: group.id }),
          201,
        );
        ids.person = [person.id];
        const crop = await ok(
          call(KEYS.admin, 'POST', `${API}/face-crops/`, { image_path: `faces/sample${n}.jpg`, person_id: person.id }),
          201,
        );
        const session = await ok(call(KEYS.admin, 'POST', `${API}/sessions/`, { group_id: group.id }), 201);
        ids.session = [session.id];
        const photo = await readFile(sample(3));
        const f = await form({ image: { data: photo, filename: 'class.jpg', type: 'image/jpeg' } });
        const up = await app.inject({
          method: 'POST',
          url: `${API}/sessions/${session.id}/photos/`,
          payload: f.payload,
          headers: { ...f.headers, ...auth(KEYS.admin) },
        });
        assert.equal(up.statusCode, 201, up.body);
        ids.photo = [up.json().photo_id];
        ids['face-crop'] = [crop.id, ...up.json().faces.map((x: { face_crop_id: number }) => x.face_crop_id)];
        assert.ok(ids['face-crop'].length >= 2, 'the class photo gave at least one face');
        const job = await ok(
          call(KEYS.admin, 'POST', `${API}/jobs/`, { kind: 'generate-embeddings', face_crop_ids: [crop.id] }),
          202,
        );
        ids.job = [job.id];
      }
    });
    after(async () => {
      await app?.close();
      await jobs?.close();
      await opened?.close();
      await rm(mediaRoot, { recursive: true, force: true });
      await rm(keyDir, { recursive: true, force: true });
    });

    test('the walk: every /api route refuses a teacher of A with 403 on B, or leaves B out of its list', async () => {
      const table: readonly AccessEntry[] = app.accessTable;
      const apiRoutes = table.filter((e) => e.method !== 'HEAD');
      assert.ok(apiRoutes.length >= 40, `the table holds every route (${apiRoutes.length})`);
      const refused: string[] = [];
      const lists: string[] = [];
      for (const entry of apiRoutes) {
        const { access, schema } = entry;
        const route = `${entry.method} ${entry.url}`;
        const s = (schema ?? {}) as { body?: { content?: Record<string, { schema?: unknown }> } };
        const params = access.params ?? {};
        const url = entry.url.replace(/:(\w+)/g, (_, name: string) => String(params[name] ? b[params[name]][0] : 1));
        const query = new URLSearchParams();
        for (const [field, kind] of Object.entries(access.query ?? {})) query.set(field, String(b[kind][0]));
        const named =
          Object.keys(params).length + Object.keys(access.query ?? {}).length + Object.keys(access.body ?? {}).length;
        const bodyless = ['GET', 'DELETE'].includes(entry.method);
        let res: LightMyRequestResponse;
        const jsonSchema = s.body?.content ? s.body.content['application/json']?.schema : s.body;
        if (!bodyless && !jsonSchema && entry.multipart) {
          const f = await form({ image: { data: await readFile(sample(1)), filename: 'x.jpg', type: 'image/jpeg' } });
          res = await app.inject({
            method: 'POST',
            url,
            payload: f.payload,
            headers: { ...f.headers, ...auth(KEYS.teacher) },
          });
        } else {
          const payload = bodyless ? undefined : (sampleOf(jsonSchema, access.body ?? {}, b) as object);
          res = await call(KEYS.teacher, entry.method, `${url}${query.size ? `?${query}` : ''}`, payload);
        }
        if (access.level === 'admin' || named > 0) {
          assert.equal(res.statusCode, 403, `${route}: ${res.statusCode} ${res.body}`);
          assert.equal(res.json().error.type, 'ForbiddenError', route);
          refused.push(route);
        }
        // A list (or the key itself), asked without naming anything: it must show nothing of B.
        const unscoped = access.level !== 'admin' && Object.keys(params).length === 0 && entry.method === 'GET';
        if (!unscoped) continue;
        const check = LISTS[route];
        assert.ok(check, `${route} is a list: add what its answer must not show of group B to LISTS`);
        const listed = await call(KEYS.teacher, 'GET', url);
        assert.equal(listed.statusCode, 200, `${route}: ${listed.body}`);
        check(listed.json(), b);
        lists.push(route);
      }
      assert.deepEqual(lists.sort(), Object.keys(LISTS).sort(), 'every list was walked');
      assert.ok(refused.length >= 30, `refused: ${refused.length}`);
    });

    test('lists show A to the teacher: its group, members, sessions, faces and none of B', async () => {
      const groups = await ok(call(KEYS.teacher, 'GET', `${API}/groups/`));
      assert.deepEqual(
        groups.results.map((g: { id: number }) => g.id),
        a.group,
      );
      assert.equal(groups.count, 1);
      const persons = await ok(call(KEYS.teacher, 'GET', `${API}/persons/`));
      assert.deepEqual(
        persons.results.map((p: { id: number }) => p.id),
        a.person,
      );
      const crops = await ok(call(KEYS.teacher, 'GET', `${API}/face-crops/?page_size=100`));
      assert.deepEqual(crops.results.map((c: { id: number }) => c.id).sort(), [...a['face-crop']].sort());
      const everything = await ok(call(KEYS.admin, 'GET', `${API}/face-crops/?page_size=100`));
      assert.equal(everything.count, a['face-crop'].length + b['face-crop'].length);
    });

    test('in scope a teacher works: reads, marks attendance, creates into its group, starts a capped job', async () => {
      const sessionA = a.session[0]!;
      await ok(call(KEYS.teacher, 'GET', `${API}/sessions/${sessionA}/`));
      await ok(call(KEYS.teacher, 'GET', `${API}/groups/${a.group[0]}/members/`));
      await ok(call(KEYS.teacher, 'GET', `${API}/persons/${a.person[0]}/faces/`));
      const img = await call(KEYS.teacher, 'GET', `${API}/face-crops/${a['face-crop'][0]}/image`);
      assert.equal(img.statusCode, 200);
      const row = await ok(
        call(KEYS.teacher, 'PUT', `${API}/sessions/${sessionA}/attendance/${a.person[0]}/`, {
          status: 'present',
          note: 'seen',
        }),
      );
      assert.equal(row.source, 'manual');
      const csv = await call(KEYS.teacher, 'GET', `${API}/sessions/${sessionA}/attendance.csv`);
      assert.equal(csv.statusCode, 200);
      const created = await ok(
        call(KEYS.teacher, 'POST', `${API}/persons/`, { name: 'new', group_id: a.group[0] }),
        201,
      );
      const members = await ok(call(KEYS.teacher, 'GET', `${API}/groups/${a.group[0]}/members/`));
      assert.ok(members.results.some((p: { id: number }) => p.id === created.id));
      // Without a group the new person would fall outside every teacher's reach.
      assertError(await call(KEYS.teacher, 'POST', `${API}/persons/`, { name: 'loose' }), 403, 'ForbiddenError');
      // Jobs: its own are visible; more items than the cap, or "all", are refused.
      const job = await ok(
        call(KEYS.teacher, 'POST', `${API}/jobs/`, {
          kind: 'generate-embeddings',
          face_crop_ids: a['face-crop'].slice(0, 2),
        }),
        202,
      );
      await ok(call(KEYS.teacher, 'GET', `${API}/jobs/${job.id}/`));
      const listed = await ok(call(KEYS.teacher, 'GET', `${API}/jobs/`));
      assert.deepEqual(
        listed.results.map((j: { id: number }) => j.id),
        [job.id],
      );
      const tooMany = assertError(
        await call(KEYS.teacher, 'POST', `${API}/jobs/`, { kind: 'generate-embeddings', face_crop_ids: [1, 2, 3, 4] }),
        403,
        'ForbiddenError',
      );
      assert.equal(tooMany.details?.max_job_items, 3);
      assertError(
        await call(KEYS.teacher, 'POST', `${API}/jobs/`, { kind: 'generate-embeddings', all: true }),
        403,
        'ForbiddenError',
      );
      // Identify searches one of its groups, never everyone.
      assertError(
        await call(KEYS.teacher, 'POST', `${API}/identify/`, { face_crop_id: a['face-crop'][0] }),
        403,
        'ForbiddenError',
      );
      const f = await form({
        image: { data: await readFile(sample(1)), filename: 'q.jpg', type: 'image/jpeg' },
        group_id: String(b.group[0]),
      });
      const multi = await app.inject({
        method: 'POST',
        url: `${API}/identify/`,
        payload: f.payload,
        headers: { ...f.headers, ...auth(KEYS.teacher) },
      });
      assertError(multi, 403, 'ForbiddenError');
    });

    test("the audit actor is the key name; the teacher sees its own sessions' trail only", async () => {
      const sessionA = a.session[0]!;
      await ok(
        call(KEYS.teacher, 'PUT', `${API}/sessions/${sessionA}/attendance/${a.person[0]}/`, { status: 'absent' }),
      );
      const trail = await ok(call(KEYS.teacher, 'GET', `${API}/audit/?session_id=${sessionA}`));
      const manual = trail.results.filter((e: { action: string }) => e.action === 'manual-status');
      assert.ok(manual.length >= 1);
      assert.ok(
        manual.every((e: { actor: string }) => e.actor === 'teach-a'),
        JSON.stringify(manual),
      );
      const all = await ok(call(KEYS.teacher, 'GET', `${API}/audit/?page_size=500`));
      assert.ok(all.results.every((e: { session_id: number }) => a.session.includes(e.session_id)));
    });

    test('a reader (key given as key_sha256) reads its group and may change nothing', async () => {
      const me = await ok(call(KEYS.reader, 'GET', `${API}/me/`));
      assert.deepEqual(me, { name: 'read-a', role: 'reader', groups: a.group, max_job_items: 0 });
      await ok(call(KEYS.reader, 'GET', `${API}/sessions/${a.session[0]}/`));
      await ok(call(KEYS.reader, 'GET', `${API}/persons/${a.person[0]}/`));
      const writes: [string, string, object?][] = [
        ['PUT', `${API}/sessions/${a.session[0]}/attendance/${a.person[0]}/`, { status: 'present' }],
        ['POST', `${API}/sessions/${a.session[0]}/close/`],
        ['PATCH', `${API}/persons/${a.person[0]}/`, { name: 'x' }],
        ['PATCH', `${API}/groups/${a.group[0]}/`, { name: 'x' }],
        ['POST', `${API}/sessions/`, { group_id: a.group[0] }],
        ['DELETE', `${API}/face-crops/${a['face-crop'][0]}/`],
        ['POST', `${API}/jobs/`, { kind: 'generate-embeddings', face_crop_ids: [a['face-crop'][0]] }],
      ];
      for (const [method, url, payload] of writes) {
        const err = assertError(await call(KEYS.reader, method, url, payload), 403, 'ForbiddenError');
        assert.match(err.message, /reader/);
      }
      const session = await ok(call(KEYS.admin, 'GET', `${API}/sessions/${a.session[0]}/`));
      assert.equal(session.status, 'open', 'nothing changed');
      const admin = await ok(call(KEYS.admin, 'GET', `${API}/me/`));
      assert.deepEqual(admin, { name: 'boss', role: 'admin', groups: null, max_job_items: null });
    });
  });
}

test('a route under /api without an access declaration stops the app from starting', async () => {
  const { default: Fastify } = await import('fastify');
  const { installAccess } = await import('../../src/http/plugins/access.js');
  const app = Fastify();
  installAccess(app, { assertReaches: async () => undefined } as never, { teacherMaxJobItems: 1 });
  app.get('/healthz-like', async () => 'ok'); // outside /api: public, no declaration needed
  await assert.rejects(
    (async () => {
      app.get('/api/attendance/forgotten/', async () => 'oops');
      await app.ready();
    })(),
    /declares no access/,
  );
  await app.close();
});
