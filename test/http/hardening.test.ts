// Hardening of the HTTP edge (docs/api.md "Errors", "Keys and roles", "Security headers"):
// JSON nesting limit, no server paths in error answers, formula-safe CSV, 429 after repeated
// wrong keys from one address, security headers on the web app and the API.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import { csvCell, defuseFormulas } from '../../src/http/routes/sessions/csv.js';
import { jsonDepthOver } from '../../src/http/json-body.js';
import { pathRedactor } from '../../src/http/redact-paths.js';
import { DB_TARGETS } from '../repositories/db-targets.js';
import { assertError, buildTestApp, FACES, form, startEmbedder, type TestApp, type TestEmbedder } from './helper.js';

const API = '/api/attendance';
const KEY = 'right-key-0123';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

test('CSV cells: text always quoted; a formula cannot start at the cell, after a space or after a separator', () => {
  const cases: [string, string][] = [
    ['=1+1', `"'=1+1"`],
    [' =1+1', `" '=1+1"`],
    ['x;=1+1', `"x;'=1+1"`],
    ['x; =1+1', `"x; '=1+1"`],
    ['a,@SUM(A1)', `"a,'@SUM(A1)"`],
    ['-2+3', `"'-2+3"`],
    ['+41 79', `"'+41 79"`],
    ['\t=cmd', `"'\t'=cmd"`],
    ['x\r=1', `"x\r'=1"`],
    ['say "hi"', `"say ""hi"""`],
    ['Ada Lovelace', '"Ada Lovelace"'],
    ['O-Neil', '"O-Neil"'],
  ];
  for (const [text, cell] of cases) assert.equal(csvCell(text), cell, JSON.stringify(text));
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(-0.25), '-0.25', 'numbers are ours and stay numbers');
  assert.equal(defuseFormulas('a|=b'), "a|'=b");
});

test('JSON depth is counted on the text, strings and escapes skipped', () => {
  assert.equal(jsonDepthOver(nested(64), 64), false);
  assert.equal(jsonDepthOver(nested(65), 64), true);
  assert.equal(jsonDepthOver(`{"a":"${'['.repeat(500)}\\"${'{'.repeat(500)}"}`, 2), false);
  assert.equal(jsonDepthOver('[[[', 2), true);
});

test('server paths in error text: relative to the media root, otherwise <path>', () => {
  const redact = pathRedactor('/srv/school/media', ['/opt/faceembed']);
  assert.equal(
    redact('Cannot decode image /srv/school/media/uploads/.x.part: bad'),
    'Cannot decode image uploads/.x.part: bad',
  );
  assert.equal(redact('Model file not found: /opt/faceembed/data/models/a.onnx'), 'Model file not found: <path>');
  assert.equal(redact(`open ${os.tmpdir()}/abc.jpg failed`), 'open <path> failed');
  assert.equal(redact('ENOENT /usr/lib/x.so'), 'ENOENT <path>');
  assert.equal(redact('Route GET /api/attendance/nothing/ not found'), 'Route GET /api/attendance/nothing/ not found');
  assert.equal(redact('see faces/sample1.jpg'), 'see faces/sample1.jpg');
});

let emb: TestEmbedder;
before(async () => {
  emb = await startEmbedder();
});
after(() => emb?.close());

for (const target of DB_TARGETS) {
  describe(`hardening over HTTP (${target.name})`, { skip: target.skip }, () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(target, emb.embedder, {
        FACEEMBED_API_KEYS: `office:${KEY}`,
        FACEEMBED_AUTH_MAX_FAILURES: '20',
        FACEEMBED_AUTH_FAILURE_WINDOW_S: '2',
      });
    });
    after(() => t?.close());
    const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: string | object, address = '10.0.0.1') =>
      t.app.inject({
        method,
        url,
        remoteAddress: address,
        headers: { ...bearer(KEY), ...(typeof payload === 'string' && { 'content-type': 'application/json' }) },
        ...(payload !== undefined && { payload }),
      });

    test('a 5000-deep metadata is 400 ValidationError (not a 500); 60 levels are stored', async () => {
      const deep = `{"name":"deep","metadata":${nested(5000)}}`;
      const err = assertError(await call('POST', `${API}/persons/`, deep), 400, 'ValidationError');
      assert.match(err.message, /deeper than 64/);
      const person = await call('POST', `${API}/persons/`, `{"name":"ok","metadata":${nested(60)}}`);
      assert.equal(person.statusCode, 201, person.body);
      assertError(
        await call('PATCH', `${API}/persons/${person.json().id}/`, `{"metadata":${nested(5000)}}`),
        400,
        'ValidationError',
      );
      // Fastify's own checks still hold behind the depth check.
      assertError(await call('POST', `${API}/persons/`, '{"name":"x","__proto__":{"a":1}}'), 400, 'ValidationError');
      const rows = await t.db.selectFrom('persons').select('name').execute();
      assert.deepEqual(
        rows.map((r) => r.name),
        ['ok'],
        'nothing half-written',
      );
    });

    test('upload errors name no server path', async () => {
      const answers = [];
      for (const [url, file] of [
        [`${API}/face-crops/`, FACES.notImage],
        [`${API}/face-crops/`, FACES.truncated],
        [`${API}/face-crops/`, FACES.empty],
      ] as const) {
        const f = await form({ image: { data: await readFile(`${t.mediaRoot}/${file}`), filename: 'x.jpg' } });
        const res = await t.app.inject({
          method: 'POST',
          url,
          payload: f.payload,
          headers: { ...f.headers, ...bearer(KEY) },
        });
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, res.body);
        answers.push(res.body);
      }
      // A crop registered by path whose file then vanishes: its error names the file as clients do.
      const reg = await call('POST', `${API}/face-crops/`, { image_path: FACES.a1 });
      assert.equal(reg.statusCode, 201, reg.body);
      answers.push((await call('GET', `${API}/face-crops/${reg.json().id}/`)).body);
      for (const body of answers) {
        assert.ok(!body.includes(t.mediaRoot), body);
        assert.ok(!body.includes(os.tmpdir()), body);
        assert.ok(!/(^|[\s"'(])\/(tmp|home|usr|var|work|srv|opt)\//.test(body), body);
      }
    });

    test('20 wrong keys from one address, then 429 with Retry-After for a while, for any key; others unaffected', async () => {
      const as = (key: string, address: string) =>
        t.app.inject({ method: 'GET', url: `${API}/persons/`, remoteAddress: address, headers: bearer(key) });
      const attacker = '10.9.9.9';
      for (let i = 0; i < 20; i++) assertError(await as(`guess-${i}`, attacker), 401, 'AuthenticationError');
      const blocked = assertError(await as('guess-20', attacker), 429, 'OverloadedError');
      assert.match(blocked.message, /wrong API keys/);
      const res = await as(KEY, attacker);
      assertError(res, 429, 'OverloadedError');
      const wait = Number(res.headers['retry-after']);
      assert.ok(wait >= 1 && wait <= 2, `Retry-After ${res.headers['retry-after']}`);
      assert.equal((await as(KEY, '10.0.0.2')).statusCode, 200, 'another address is not blocked');
      // No key at all is a 401 that is not counted (a browser before its key prompt).
      for (let i = 0; i < 25; i++)
        assertError(
          await t.app.inject({ method: 'GET', url: `${API}/persons/`, remoteAddress: '10.0.0.3' }),
          401,
          'AuthenticationError',
        );
      assert.equal((await as(KEY, '10.0.0.3')).statusCode, 200);
      await new Promise((r) => setTimeout(r, wait * 1000 + 100));
      assert.equal((await as(KEY, attacker)).statusCode, 200, 'the window has passed');
    });

    test('security headers on the API, the web app and the docs', async () => {
      const common = (h: Record<string, unknown>, what: string) => {
        assert.equal(h['x-content-type-options'], 'nosniff', what);
        assert.equal(h['referrer-policy'], 'no-referrer', what);
        assert.equal(h['x-frame-options'], 'DENY', what);
        assert.match(String(h['content-security-policy']), /frame-ancestors 'none'/, what);
      };
      const api = await call('GET', `${API}/persons/`);
      common(api.headers, 'api');
      assert.match(String(api.headers['content-security-policy']), /^default-src 'none'/);
      const denied = await t.app.inject({ method: 'GET', url: `${API}/persons/` });
      common(denied.headers, 'a 401');
      const page = await t.app.inject({ method: 'GET', url: '/' });
      if (page.statusCode === 200) {
        common(page.headers, 'web app');
        const csp = String(page.headers['content-security-policy']);
        assert.match(csp, /script-src 'self'(;|$)/);
        assert.ok(!csp.includes('unsafe'), csp);
      }
      // The policy follows the path, so a 304 revalidation of a client route carries the web app's too.
      const route = await t.app.inject({ method: 'GET', url: '/sessions/7', headers: { 'if-none-match': '"x"' } });
      if (route.statusCode < 400) assert.match(String(route.headers['content-security-policy']), /script-src 'self'/);
      const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
      common(docs.headers, 'docs');
    });
  });
}
