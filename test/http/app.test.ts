// Application-wide behaviour: health and readiness, metrics, OpenAPI, request ids in logs,
// API keys, tracebacks, hidden 500s, and the pool's 429 and 504 reaching HTTP clients.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/main.js';
import { REPO } from '../helpers/paths.js';
import { DB_TARGETS } from '../repositories/db-targets.js';
import {
  appOn,
  assertError,
  buildTestApp,
  CROPS,
  FACES,
  startEmbedder,
  type TestApp,
  type TestEmbedder,
} from './helper.js';

const sqlite = DB_TARGETS.find((d) => d.name === 'sqlite')!;

/** A pino logger whose JSON lines land in an array. */
function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, logger: pino({ level }, stream) };
}

describe('application', () => {
  let emb: TestEmbedder;
  let t: TestApp;
  const embLog = capture('debug');
  before(async () => {
    emb = await startEmbedder({ logger: embLog.logger });
    t = await buildTestApp(sqlite, emb.embedder);
  });
  after(async () => {
    await t?.close();
    await emb?.close();
  });

  test('healthz and readyz answer 200 when the database and the pool are up', async () => {
    assert.deepEqual((await t.app.inject({ url: '/healthz' })).json(), { status: 'ok' });
    const ready = await t.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', checks: { database: 'ok', embedder: 'ok' } });
  });

  test('metrics: Prometheus text with HTTP, pool and restart series', async () => {
    await t.app.inject({ url: '/healthz' });
    const res = await t.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.body, /faceembed_http_requests_total\{method="GET",route="\/healthz",status_code="200"\} \d+/);
    assert.match(
      res.body,
      /faceembed_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/healthz"\}/,
    );
    for (const name of ['faceembed_pool_workers 1', 'faceembed_pool_busy_workers 0', 'faceembed_pool_queue_depth 0'])
      assert.ok(res.body.includes(name), name);
    assert.match(res.body, /faceembed_worker_restarts_total\{cause="crash"\} 0/);
    assert.match(res.body, /faceembed_process_resident_memory_bytes/);
  });

  test('OpenAPI document lists every route; /docs serves the UI', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    assert.match(doc.openapi, /^3\./);
    const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    assert.equal(doc.info.version, pkg.version, "OpenAPI info.version is the package's version");
    for (const p of [
      '/api/attendance/face-crops/',
      '/api/attendance/face-crops/{id}/',
      '/api/attendance/face-crops/{id}/generate-embedding/',
      '/api/attendance/face-crops/generate-embeddings-batch/',
      '/api/attendance/similarity/',
      '/healthz',
      '/readyz',
    ]) {
      assert.ok(doc.paths[p], `${p} missing from ${Object.keys(doc.paths).join(', ')}`);
    }
    const create = doc.paths['/api/attendance/face-crops/'].post;
    assert.deepEqual(Object.keys(create.requestBody.content).sort(), ['application/json', 'multipart/form-data']);
    assert.deepEqual(Object.keys(create.responses).sort(), ['201', '4XX', '5XX']);
    assert.deepEqual(Object.keys(create.responses['4XX'].content['application/json'].schema.properties).sort(), [
      'error',
      'request_id',
    ]);
    const docs = await t.app.inject({ url: '/docs' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });

  test('request id: a plain caller id is kept, echoed, and reaches the embedder logs', async () => {
    const id = (await t.app.inject({ method: 'POST', url: CROPS, payload: { image_path: FACES.a1 } })).json().id;
    const res = await t.app.inject({
      method: 'POST',
      url: `${CROPS}${id}/generate-embedding/`,
      headers: { 'x-request-id': 'att-42.7' },
      payload: {},
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['x-request-id'], 'att-42.7');
    const lines = embLog.lines.filter((l) => l.reqId === 'att-42.7');
    assert.ok(lines.length >= 2, JSON.stringify(embLog.lines.slice(-3)));
    // One info line per embedding, with its timings; the worker's steps are debug.
    const info = lines.filter((l) => l.level === 30);
    assert.equal(info.length, 1, JSON.stringify(info));
    assert.equal(typeof info[0]!.timings, 'object');
    assert.ok(
      lines.some((l) => l.level === 20 && l.workerId !== undefined),
      'worker steps at debug',
    );
    assert.ok(lines.every((l) => l.face_crop_id === id));
    assert.ok(
      lines.every((l) => l.actor === 'anonymous'),
      'no keys configured: the actor is anonymous',
    );
    const odd = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(String(odd.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('a failure inside a route: 500 hides the message; the log keeps the traceback; debug shows it', async () => {
    const appLog = capture();
    const opened = await sqlite.open();
    const broken = await buildApp({
      config: t.config,
      db: opened.db,
      embedder: emb.embedder,
      logger: appLog.logger,
      services: (observer) => createServices({ db: opened.db, embedder: emb.embedder, config: t.config, observer }),
    });
    const debug = await appOn(opened, t.mediaRoot, emb.embedder, { FACEEMBED_LOG_LEVEL: 'debug' });
    await opened.close(); // the database goes away under both apps
    try {
      const err = assertError(await broken.inject({ url: `${CROPS}1/` }), 500, 'InternalError');
      assert.equal(err.message, 'Internal Server Error');
      assert.equal(err.traceback, undefined);
      assert.equal(err.details, undefined);
      const logged = appLog.lines.find((l) => l.error_type === 'InternalError') as
        { err?: { stack?: string } } | undefined;
      assert.ok(logged?.err?.stack && logged.err.stack.length > 0, 'traceback logged');

      const notReady = await broken.inject({ url: '/readyz' });
      assert.equal(notReady.statusCode, 503);
      assert.deepEqual(notReady.json().checks, { database: 'unavailable', embedder: 'ok' });

      const dbg = assertError(await debug.app.inject({ url: `${CROPS}1/` }), 500, 'InternalError');
      assert.equal(dbg.message, 'Internal Server Error');
      assert.match(dbg.traceback ?? '', /\n\s+at /);
      const dbg404 = assertError(await debug.app.inject({ url: '/api/nothing' }), 404, 'NotFoundError');
      assert.match(dbg404.traceback ?? '', /NotFoundError/);
      assert.equal(assertError(await t.app.inject({ url: '/api/nothing' }), 404, 'NotFoundError').traceback, undefined);
    } finally {
      await broken.close();
      await debug.app.close();
    }
  });

  test('API keys: /api/* needs a valid bearer key, other paths stay open', async () => {
    const authed = await appOn(t.opened, t.mediaRoot, emb.embedder, { FACEEMBED_API_KEYS: 'k-one, office:k-two' });
    try {
      const get = (url: string, authorization?: string) =>
        authed.app.inject({ url, headers: authorization ? { authorization } : {} });
      const missing = await get(CROPS);
      assertError(missing, 401, 'AuthenticationError');
      assert.match(String(missing.headers['www-authenticate']), /^Bearer/);
      assertError(await get(CROPS, 'Bearer k-three'), 401, 'AuthenticationError');
      assertError(await get(CROPS, 'Bearer k-one-and-more'), 401, 'AuthenticationError');
      assertError(await get(CROPS, 'Basic k-one'), 401, 'AuthenticationError');
      assertError(await get(`${CROPS}99999/`), 401, 'AuthenticationError');
      for (const url of [
        '/API/attendance/face-crops/',
        '/%61pi/attendance/face-crops/',
        '//api/attendance/face-crops/',
        '/api/unknown',
      ]) {
        assertError(await get(url), 401, 'AuthenticationError');
      }
      assert.equal((await get(CROPS, 'Bearer k-one')).statusCode, 200);
      assert.equal((await get(CROPS, 'bearer k-two')).statusCode, 200);
      assertError(await get(CROPS, 'Bearer office:k-two'), 401, 'AuthenticationError');
      // The key's name is the caller's identity on the log lines of its work.
      const id = (
        await authed.app.inject({
          method: 'POST',
          url: CROPS,
          headers: { authorization: 'Bearer k-two' },
          payload: { image_path: FACES.a2 },
        })
      ).json().id;
      const res = await authed.app.inject({
        method: 'POST',
        url: `${CROPS}${id}/generate-embedding/`,
        headers: { authorization: 'Bearer k-two', 'x-request-id': 'actor-check' },
        payload: {},
      });
      assert.equal(res.statusCode, 200, res.body);
      const lines = embLog.lines.filter((l) => l.reqId === 'actor-check');
      assert.ok(lines.length > 0 && lines.every((l) => l.actor === 'office'), JSON.stringify(lines.slice(0, 2)));
      for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json'])
        assert.equal((await get(url)).statusCode, 200, url);
      assert.equal((await t.app.inject({ url: CROPS })).statusCode, 200, 'no keys configured: open');
    } finally {
      await authed.app.close();
    }
  });
});

describe('pool limits reach HTTP clients', () => {
  let base: TestEmbedder;
  let t: TestApp;
  before(async () => {
    base = await startEmbedder();
    t = await buildTestApp(sqlite, base.embedder);
  });
  after(async () => {
    await t?.close();
    await base?.close();
  });

  test('a full queue answers 429 with Retry-After', async () => {
    const busy = await startEmbedder({ queueLimit: 0 });
    const app = await appOn(t.opened, t.mediaRoot, busy.embedder);
    try {
      const ids: number[] = [];
      for (const f of [FACES.a1, FACES.a2, FACES.a3])
        ids.push((await app.app.inject({ method: 'POST', url: CROPS, payload: { image_path: f } })).json().id);
      const results = await Promise.all(
        ids.map((id) => app.app.inject({ method: 'POST', url: `${CROPS}${id}/generate-embedding/`, payload: {} })),
      );
      const refused = results.filter((r) => r.statusCode === 429);
      assert.ok(
        refused.length >= 1 && results.some((r) => r.statusCode === 200),
        results.map((r) => r.statusCode).join(),
      );
      for (const r of refused) {
        assertError(r, 429, 'OverloadedError');
        assert.ok(Number(r.headers['retry-after']) >= 1);
      }
    } finally {
      await app.app.close();
      await busy.close();
    }
  });

  test('work past FACEEMBED_TIMEOUT_MS answers 504 TimeoutError', async () => {
    const slow = await startEmbedder({ timeoutMs: 1 });
    const app = await appOn(t.opened, t.mediaRoot, slow.embedder);
    try {
      const id = (await app.app.inject({ method: 'POST', url: CROPS, payload: { image_path: FACES.a1 } })).json().id;
      assertError(
        await app.app.inject({ method: 'POST', url: `${CROPS}${id}/generate-embedding/`, payload: {} }),
        504,
        'TimeoutError',
      );
    } finally {
      await app.app.close();
      await slow.close();
    }
  });
});
