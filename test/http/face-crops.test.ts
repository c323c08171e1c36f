// Face crop routes that store and read crops (no embedding work): register, upload, list,
// detail, delete, and every way a request can be refused.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { probeImage } from '../../src/image/decode.js';
import { DB_TARGETS } from '../repositories/db-targets.js';
import {
  appOn,
  assertError,
  buildTestApp,
  CROPS,
  FACES,
  form,
  startEmbedder,
  type TestApp,
  type TestEmbedder,
} from './helper.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let emb: TestEmbedder;
before(async () => {
  emb = await startEmbedder();
});
after(() => emb?.close());

for (const target of DB_TARGETS) {
  describe(`face crops over HTTP (${target.name})`, { skip: target.skip }, () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(target, emb.embedder);
    });
    after(() => t?.close());
    const post = (payload: unknown, url = CROPS) => t.app.inject({ method: 'POST', url, payload: payload as object });

    test('JSON registration: 201 with size from the header and the file hash', async () => {
      const res = await post({ image_path: FACES.a1, person_id: 'emp-7', label: 'front door' });
      assert.equal(res.statusCode, 201, res.body);
      const abs = path.join(t.mediaRoot, FACES.a1);
      const info = await probeImage(abs);
      const body = res.json();
      assert.deepEqual(
        { ...body, id: 0, created_at: '' },
        {
          id: 0,
          image_path: FACES.a1,
          width: info.width,
          height: info.height,
          sha256: sha256(await readFile(abs)),
          person_id: body.person_id,
          label: 'front door',
          box: null,
          source_photo_id: null,
          width_px: null,
          sharpness: null,
          yaw: null,
          roll: null,
          created_at: '',
        },
      );
      assert.ok(Number.isInteger(body.person_id), 'an external_id names (and creates) a person');
      assert.ok(!Number.isNaN(Date.parse(body.created_at)));
      const again = await post({ image_path: FACES.a1, person_id: 'emp-7' });
      assert.equal(again.json().person_id, body.person_id, 'the same external_id, the same person');
    });

    test('path without trailing slash works; an integer person_id must name a person', async () => {
      const person = (await post({ image_path: FACES.a2, person_id: `int-${target.name}` })).json().person_id;
      const res = await post({ image_path: `./${FACES.a2}`, person_id: person }, CROPS.slice(0, -1));
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().person_id, person);
      assert.equal(res.json().image_path, FACES.a2, 'normalised');
      const unknown = await post({ image_path: FACES.a2, person_id: 999_999 });
      assertError(unknown, 400, 'ValidationError');
      assert.match(unknown.json().error.message, /999999/);
    });

    test('paths that leave the media root are ValidationError 400', async () => {
      await symlink('/etc/hostname', path.join(t.mediaRoot, 'faces/link-out.jpg'));
      for (const p of [
        '../secret.jpg',
        '/etc/hostname',
        'faces/../../x.jpg',
        '%2e%2e%2fsecret.jpg',
        'faces/%252e%252e/x',
        'a\u0000.jpg',
        'faces\\..\\..\\x',
        'faces/link-out.jpg',
      ]) {
        const err = assertError(await post({ image_path: p }), 400, 'ValidationError');
        assert.match(err.message, /image_path/);
      }
    });

    test('missing, empty and non-image files are 422; a directory is 400', async () => {
      assertError(await post({ image_path: 'faces/nope.jpg' }), 422, 'FileNotFoundError');
      assertError(await post({ image_path: FACES.notImage }), 422, 'ImageDecodeError');
      assertError(await post({ image_path: FACES.empty }), 422, 'ImageDecodeError');
      assertError(await post({ image_path: 'faces' }), 400, 'ValidationError');
    });

    test('malformed bodies: schema errors name the field; no coercion', async () => {
      let err = assertError(await post({}), 400, 'ValidationError');
      assert.match(err.message, /image_path/);
      err = assertError(await post({ image_path: 7 }), 400, 'ValidationError');
      assert.deepEqual(
        (err.details as { errors: { field: string }[] }).errors.map((e) => e.field),
        ['image_path'],
      );
      assertError(await post({ image_path: FACES.a1, label: 'x'.repeat(300) }), 400, 'ValidationError');
      assertError(await t.app.inject({ method: 'POST', url: CROPS }), 400, 'ValidationError');
    });

    test('Fastify-level refusals use the envelope: bad JSON 400, wrong type 415, too large 413', async () => {
      const json = { 'content-type': 'application/json' };
      assertError(
        await t.app.inject({ method: 'POST', url: CROPS, headers: json, payload: '{"image_path": ' }),
        400,
        'ValidationError',
      );
      assertError(
        await t.app.inject({
          method: 'POST',
          url: CROPS,
          headers: { 'content-type': 'text/plain' },
          payload: 'faces/sample1.jpg',
        }),
        415,
        'ValidationError',
      );
      assertError(
        await t.app.inject({
          method: 'POST',
          url: CROPS,
          headers: { 'content-type': 'application/xml' },
          payload: '<a/>',
        }),
        415,
        'ValidationError',
      );
      const huge = JSON.stringify({ image_path: FACES.a1, label: 'x'.repeat(300 * 1024) });
      assertError(
        await t.app.inject({ method: 'POST', url: CROPS, headers: json, payload: huge }),
        413,
        'ValidationError',
      );
      const mp = await form({ model_name: 'facenet' });
      assertError(
        await t.app.inject({ method: 'POST', url: `${CROPS}1/generate-embedding/`, ...mp }),
        415,
        'ValidationError',
      );
    });

    test('upload: stored under a generated name, format and size read from the content', async () => {
      const png = await readFile(path.join(t.mediaRoot, FACES.png));
      const mp = await form({
        person_id: 'emp-9',
        image: { data: png, filename: 'holiday.jpg', type: 'image/jpeg' },
        label: 'after the file',
      });
      const res = await t.app.inject({ method: 'POST', url: CROPS, ...mp });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json();
      assert.match(body.image_path, /^uploads\/[0-9a-f-]{36}\.png$/);
      const stored = path.join(t.mediaRoot, body.image_path);
      // Kept re-encoded without metadata (docs/privacy.md); sha256 is of the bytes uploaded.
      const [kept, sent] = await Promise.all([sharp(stored).raw().toBuffer(), sharp(png).raw().toBuffer()]);
      assert.ok(kept.equals(sent), 'PNG is kept pixel for pixel');
      const info = await probeImage(stored);
      assert.deepEqual(
        [body.width, body.height, body.sha256, body.person_id, body.label],
        [info.width, info.height, sha256(png), body.person_id, 'after the file'],
      );
      assert.ok(Number.isInteger(body.person_id));
      const byId = await form({
        person_id: String(body.person_id),
        image: { data: png, filename: 'again.png', type: 'image/png' },
      });
      assert.equal(
        (await t.app.inject({ method: 'POST', url: CROPS, ...byId })).json().person_id,
        body.person_id,
        'digits in a form field are a person id',
      );
    });

    test('upload refusals: non-image or truncated 422, no file 400, text in place of the file 400, nothing left on disk', async () => {
      const uploads = () => readdir(path.join(t.mediaRoot, 'uploads')).catch(() => [] as string[]);
      const count = async (): Promise<number> => (await t.app.inject({ url: CROPS })).json().count;
      const before = await uploads();
      const rowsBefore = await count();
      const text = await form({
        image: { data: Buffer.from('GIF89a but not really'), filename: 'a.gif', type: 'image/gif' },
      });
      assertError(await t.app.inject({ method: 'POST', url: CROPS, ...text }), 422, 'ImageDecodeError');
      // Only a full decode finds a JPEG cut short: its header is intact.
      const jpeg = await readFile(path.join(t.mediaRoot, FACES.a1));
      const cut = await form({ image: { data: jpeg.subarray(0, Math.floor(jpeg.length / 3)), filename: 'cut.jpg' } });
      const cutErr = assertError(await t.app.inject({ method: 'POST', url: CROPS, ...cut }), 422, 'ImageDecodeError');
      assert.match(cutErr.message, /decode/i);
      const empty = await form({ image: { data: Buffer.alloc(0), filename: 'e.jpg' } });
      assertError(await t.app.inject({ method: 'POST', url: CROPS, ...empty }), 422, 'ImageDecodeError');
      assertError(
        await t.app.inject({ method: 'POST', url: CROPS, ...(await form({ person_id: 'x' })) }),
        400,
        'ValidationError',
      );
      assertError(
        await t.app.inject({ method: 'POST', url: CROPS, ...(await form({ image: 'faces/sample1.jpg' })) }),
        400,
        'ValidationError',
      );
      const wrongField = await form({ photo: { data: Buffer.from('x'), filename: 'x.jpg' } });
      assertError(await t.app.inject({ method: 'POST', url: CROPS, ...wrongField }), 400, 'ValidationError');
      // Malformed multipart: no boundary, a body cut short, no parts at all.
      const raw = (type: string, payload: string) =>
        t.app.inject({ method: 'POST', url: CROPS, headers: { 'content-type': type }, payload });
      assertError(await raw('multipart/form-data', 'xxx'), 400, 'ValidationError');
      assertError(
        await raw(
          'multipart/form-data; boundary=abc',
          '--abc\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nhello',
        ),
        400,
        'ValidationError',
      );
      assertError(await raw('multipart/form-data; boundary=abc', 'garbage'), 400, 'ValidationError');
      assert.deepEqual(await uploads(), before);
      assert.equal(await count(), rowsBefore, 'no crop row');
    });

    test('upload caps: bytes over FACEEMBED_MAX_IMAGE_BYTES 413, pixels over the pixel cap 413', async () => {
      const jpeg = await readFile(path.join(t.mediaRoot, FACES.a1));
      const info = await probeImage(path.join(t.mediaRoot, FACES.a1));
      const small = await appOn(t.opened, t.mediaRoot, emb.embedder, {
        FACEEMBED_MAX_IMAGE_BYTES: String(jpeg.length - 1),
        FACEEMBED_MAX_IMAGE_PIXELS: String(info.width * info.height - 1),
      });
      try {
        const big = await form({ image: { data: jpeg, filename: 'a.jpg' } });
        assertError(await small.app.inject({ method: 'POST', url: CROPS, ...big }), 413, 'ImageTooLargeError');
        assertError(
          await small.app.inject({ method: 'POST', url: CROPS, payload: { image_path: FACES.a1 } }),
          413,
          'ImageTooLargeError',
        );
      } finally {
        await small.app.close();
      }
      assert.ok(!(await readdir(path.join(t.mediaRoot, 'uploads')).catch(() => [])).some((f) => f.endsWith('.part')));
    });

    test('list: pages in id order with count, next and previous; filters by person_id', async () => {
      const ids: number[] = [];
      const crops = [];
      for (let i = 0; i < 3; i++)
        crops.push((await post({ image_path: FACES.a3, person_id: `list-${target.name}` })).json());
      for (const c of crops) ids.push(c.id);
      const person = String(crops[0].person_id);
      const p1 = await t.app.inject({ url: `${CROPS}?page=1&page_size=2&person_id=${person}` });
      assert.equal(p1.statusCode, 200, p1.body);
      assert.equal(p1.json().count, 3);
      assert.deepEqual(
        p1.json().results.map((c: { id: number }) => c.id),
        ids.slice(0, 2),
      );
      assert.equal(p1.json().previous, null);
      const next = new URL(p1.json().next);
      assert.equal(next.searchParams.get('page'), '2');
      assert.equal(next.searchParams.get('person_id'), person);
      const p2 = await t.app.inject({ url: `${next.pathname}${next.search}` });
      assert.deepEqual(
        p2.json().results.map((c: { id: number }) => c.id),
        ids.slice(2),
      );
      assert.equal(p2.json().next, null);
      assert.notEqual(p2.json().previous, null);
      const all = (await t.app.inject({ url: CROPS.slice(0, -1) })).json();
      assert.ok(all.count >= 3 && all.results.length === Math.min(all.count, 50));
      assertError(await t.app.inject({ url: `${CROPS}?page=9&page_size=2&person_id=${person}` }), 404, 'NotFoundError');
      for (const q of ['page=0', 'page=abc', 'page_size=0', 'page_size=1001', 'page=1.5']) {
        assertError(await t.app.inject({ url: `${CROPS}?${q}` }), 400, 'ValidationError');
      }
    });

    test('detail: the crop plus its (empty) embeddings; bad ids 400, unknown 404', async () => {
      const created = (await post({ image_path: FACES.a1 })).json();
      for (const url of [`${CROPS}${created.id}/`, `${CROPS}${created.id}`]) {
        const res = await t.app.inject({ url });
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json(), { ...created, embeddings: [] });
      }
      assertError(await t.app.inject({ url: `${CROPS}99999999/` }), 404, 'NotFoundError');
      for (const id of ['abc', '0', '-1', '1.5', '99999999999'])
        assertError(await t.app.inject({ url: `${CROPS}${id}/` }), 400, 'ValidationError');
    });

    test('delete: 204, then 404; an uploaded file goes with its crop, a registered file stays', async () => {
      const registered = (await post({ image_path: FACES.a2 })).json();
      const mp = await form({ image: { data: await readFile(path.join(t.mediaRoot, FACES.a1)), filename: 'x.jpg' } });
      const uploaded = (await t.app.inject({ method: 'POST', url: CROPS, ...mp })).json();
      assert.ok(existsSync(path.join(t.mediaRoot, uploaded.image_path)));

      for (const crop of [registered, uploaded]) {
        const res = await t.app.inject({ method: 'DELETE', url: `${CROPS}${crop.id}/` });
        assert.equal(res.statusCode, 204, res.body);
        assert.equal(res.body, '');
        assertError(await t.app.inject({ url: `${CROPS}${crop.id}/` }), 404, 'NotFoundError');
      }
      assert.ok(existsSync(path.join(t.mediaRoot, FACES.a2)));
      assert.ok(!existsSync(path.join(t.mediaRoot, uploaded.image_path)));
      assertError(await t.app.inject({ method: 'DELETE', url: `${CROPS}${registered.id}` }), 404, 'NotFoundError');
    });

    test('an uploaded file cannot be registered again by path; it goes with its crop', async () => {
      const mp = await form({ image: { data: await readFile(path.join(t.mediaRoot, FACES.a3)), filename: 'x.jpg' } });
      const first = (await t.app.inject({ method: 'POST', url: CROPS, ...mp })).json();
      const err = assertError(await post({ image_path: first.image_path }), 422, 'ValidationError');
      assert.equal(err.details?.face_crop_id, first.id);
      assert.equal((await t.app.inject({ method: 'DELETE', url: `${CROPS}${first.id}/` })).statusCode, 204);
      assert.ok(!existsSync(path.join(t.mediaRoot, first.image_path)));
    });

    test('GET and DELETE with Content-Type: application/json and no body: 200 and 204, as in DRF', async () => {
      const created = (await post({ image_path: FACES.a1 })).json();
      for (const headers of [
        { 'content-type': 'application/json' },
        { 'content-type': 'application/json; charset=utf-8', 'content-length': '0' },
        { 'content-type': 'text/plain' },
      ]) {
        const list = await t.app.inject({ url: CROPS, headers });
        assert.equal(list.statusCode, 200, list.body);
        const detail = await t.app.inject({ url: `${CROPS}${created.id}/`, headers });
        assert.equal(detail.statusCode, 200, detail.body);
      }
      const res = await t.app.inject({
        method: 'DELETE',
        url: `${CROPS}${created.id}/`,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.statusCode, 204, res.body);
      // A POST still needs its body.
      const empty = await t.app.inject({ method: 'POST', url: CROPS, headers: { 'content-type': 'application/json' } });
      assertError(empty, 400, 'ValidationError');
    });

    test('unknown routes answer 404 in the envelope', async () => {
      const err = assertError(await t.app.inject({ url: '/api/attendance/nothing/' }), 404, 'NotFoundError');
      assert.match(err.message, /GET \/api\/attendance\/nothing\//);
    });
  });
}
