// The web app at `/`: index.html for client routes, hashed assets cached, server paths keep
// their JSON 404s; and the face crop image route the app's thumbnails use.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { WEB_APP_ROOT } from '../../src/http/plugins/web-app.js';
import { DB_TARGETS } from '../repositories/db-targets.js';
import { assertError, buildTestApp, CROPS, FACES, startEmbedder, type TestApp, type TestEmbedder } from './helper.js';

const BUILT = existsSync(path.join(WEB_APP_ROOT, 'index.html'))
  ? false
  : `web app not built at ${WEB_APP_ROOT} (npm run build builds it)`;
const sqlite = DB_TARGETS.find((t) => t.name === 'sqlite')!;

describe('web app and crop images over HTTP', { skip: BUILT }, () => {
  let emb: TestEmbedder;
  let t: TestApp;
  before(async () => {
    emb = await startEmbedder();
    t = await buildTestApp(sqlite, emb.embedder, { FACEEMBED_API_KEYS: 'k1' });
  });
  after(async () => {
    await t?.close();
    await emb?.close();
  });
  const auth = { authorization: 'Bearer k1' };

  test('GET / and client routes answer index.html without a key, never cached', async () => {
    const index = await readFile(path.join(WEB_APP_ROOT, 'index.html'), 'utf8');
    for (const url of ['/', '/sessions', '/sessions/12', '/persons/3?tab=faces']) {
      const res = await t.app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.body, index, url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
    }
  });

  test('hashed assets are served and cached for good; a missing asset is a JSON 404', async () => {
    const index = await readFile(path.join(WEB_APP_ROOT, 'index.html'), 'utf8');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1];
    assert.ok(script, index);
    const res = await t.app.inject({ url: script });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['cache-control']), /immutable/);
    assertError(await t.app.inject({ url: '/assets/missing-0000.js' }), 404, 'NotFoundError');
  });

  test('the whole built app stays within its budget of 300 KB gzipped', async () => {
    const files = (await readdir(WEB_APP_ROOT, { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
    let gzipped = 0;
    for (const f of files) gzipped += gzipSync(await readFile(path.join(f.parentPath, f.name)), { level: 9 }).length;
    assert.ok(gzipped <= 300 * 1024, `built app is ${gzipped} bytes gzipped`);
  });

  test('/api, /docs and /openapi.json are not swallowed by the app', async () => {
    assertError(await t.app.inject({ url: '/api/attendance/nothing-here/', headers: auth }), 404, 'NotFoundError');
    assert.equal((await t.app.inject({ url: '/api/attendance/face-crops/' })).statusCode, 401);
    assert.equal((await t.app.inject({ url: '/openapi.json' })).json().openapi.startsWith('3'), true);
    assert.match(String((await t.app.inject({ url: '/docs/' })).headers['content-type']), /^text\/html/);
  });

  test('GET face-crops/{id}/image streams the stored file with its type, behind the key', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: CROPS,
      headers: auth,
      payload: { image_path: FACES.png },
    });
    assert.equal(created.statusCode, 201, created.body);
    const { id } = created.json() as { id: number };
    assert.equal((await t.app.inject({ url: `${CROPS}${id}/image` })).statusCode, 401);
    const res = await t.app.inject({ url: `${CROPS}${id}/image`, headers: auth });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'image/png');
    assert.deepEqual(res.rawPayload, await readFile(path.join(t.mediaRoot, FACES.png)));
    assertError(await t.app.inject({ url: `${CROPS}999999/image`, headers: auth }), 404, 'NotFoundError');
  });
});
