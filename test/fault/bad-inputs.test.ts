// Hostile and unusual requests over HTTP against a real server with API keys set: each bad one
// must get its typed error and status and write nothing (no crop row, no embedding row, no file
// left under the media root); the odd-but-valid images must be accepted and embedded.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { openDatabase, type Database } from '../../src/repositories/database.js';
import { waitFor } from '../helpers/processes.js';
import { countRows } from './helpers/db.js';
import { listFiles, oddImages, smallFace, workspace, writeMedia, type Workspace } from './helpers/fixtures.js';
import {
  Api,
  BATCH,
  CROPS,
  cosine,
  expectEmbedding,
  expectError,
  generatePath,
  outcome,
  type Reply,
} from './helpers/http.js';
import { Section } from './helpers/report.js';
import { ServerProcess } from './helpers/server.js';

const KEYS = ['k-alpha-0123456789', 'k-beta-9876543210'];
const MAX_BYTES = 2 * 1024 * 1024;
const DIMS = 128;
const UNICODE_NAME = 'faces/ünïcødé 顔 😀.jpg';

const section = new Section(
  '4-bad-inputs',
  '4. Bad inputs over HTTP',
  `One server with \`FACEEMBED_API_KEYS\` set (every request carries a valid key unless the case says otherwise) and ` +
    `\`FACEEMBED_MAX_IMAGE_BYTES=${MAX_BYTES}\`, on SQLite. For every bad input the server must answer the typed error and ` +
    'write nothing: the crop and embedding row counts and the list of files under the media root (temporary upload ' +
    'files included) are compared before and after. Rows marked GOOD are valid inputs that must succeed.',
  'bad-inputs.test.js',
);
after(() => section.save());

describe('bad inputs over HTTP', () => {
  let ws: Workspace;
  let server: ServerProcess;
  let api: Api;
  let db: Database;
  let img: Record<string, Buffer>;
  let faceId: number;
  let upright: number[];

  before(async () => {
    ws = await workspace('bad-inputs');
    img = await oddImages();
    const m = ws.mediaRoot;
    await writeMedia(m, 'faces/face.jpg', img.face!);
    await writeMedia(m, 'faces/empty.jpg', img.empty!);
    await writeMedia(m, 'faces/text.jpg', img.text!);
    await writeMedia(m, 'faces/huge.png', img.hugePng!);
    await writeMedia(m, 'faces/drawing.svg', img.svg!);
    await writeMedia(m, 'faces/too-big.jpg', Buffer.concat([img.face!, Buffer.alloc(MAX_BYTES)]));
    await writeMedia(m, UNICODE_NAME, await smallFace(3));
    await mkdir(path.join(ws.dir, 'outside'));
    await writeMedia(ws.dir, 'outside/secret.jpg', img.face!);
    await symlink(path.join(ws.dir, 'outside/secret.jpg'), path.join(m, 'faces/escape.jpg'));
    const databaseUrl = `sqlite:${path.join(ws.dir, 'faceembed.db')}`;
    server = await ServerProcess.start({
      databaseUrl,
      mediaRoot: m,
      modelsDir: ws.modelsDir,
      cwd: ws.dir,
      env: { FACEEMBED_WORKERS: '1', FACEEMBED_API_KEYS: KEYS.join(','), FACEEMBED_MAX_IMAGE_BYTES: String(MAX_BYTES) },
    });
    api = new Api(server.baseUrl, { authorization: `Bearer ${KEYS[0]}` });
    db = openDatabase(databaseUrl);
    faceId = await api.register('faces/face.jpg');
    upright = expectEmbedding(await api.post(generatePath(faceId)), DIMS).embedding;
  });
  after(async () => {
    await db?.destroy();
    await server?.stop();
    await ws?.close();
  });

  const snapshot = async () => ({
    crops: await countRows(db, 'face_crops'),
    embeddings: await countRows(db, 'face_embeddings'),
    files: listFiles(ws.mediaRoot),
  });

  /** A bad input: the typed error, and nothing written. */
  async function bad(
    name: string,
    status: number,
    type: string,
    send: () => Promise<Reply>,
    note = '',
    extra?: (r: Reply) => void,
  ): Promise<void> {
    await section.check(name, `${status} ${type}; nothing written`, async () => {
      const before = await snapshot();
      const r = await send();
      const seen = outcome(r);
      expectError(r, status, type);
      extra?.(r);
      assert.deepEqual(await snapshot(), before, 'nothing written');
      section.count('badInputs');
      return `${seen}; nothing written${note ? `; ${note}` : ''}`;
    });
  }

  /** A GOOD input: `fn` asserts success and returns what it saw. */
  async function good(name: string, expected: string, fn: () => Promise<string>): Promise<void> {
    await section.check(`GOOD: ${name}`, expected, async () => {
      const seen = await fn();
      section.count('badInputs');
      return seen;
    });
  }

  /** Upload, check the crop, embed it. */
  async function uploadAndEmbed(
    file: string,
    data: Buffer,
  ): Promise<{ crop: { id: number; width: number; height: number }; embedding: number[] }> {
    const r = await api.upload(file, data);
    assert.equal(r.status, 201, r.text);
    const crop = r.json as { id: number; width: number; height: number };
    const e = await api.post(generatePath(crop.id));
    return { crop, embedding: expectEmbedding(e, DIMS).embedding };
  }
  const sim = (v: number[]) => cosine(v, upright).toFixed(2);

  test('uploads', async () => {
    await bad('upload: form without a file part', 400, 'ValidationError', () => {
      const form = new FormData();
      form.append('person_id', 'p1');
      return api.call('POST', CROPS, { form });
    });
    await bad('upload: file in field "file" instead of "image"', 400, 'ValidationError', () =>
      api.upload('face.jpg', img.face!, 'file'),
    );
    await bad('upload: empty file', 422, 'ImageDecodeError', () => api.upload('empty.jpg', img.empty!));
    await bad('upload: text file named .jpg', 422, 'ImageDecodeError', () => api.upload('text.jpg', img.text!));
    await bad(
      'upload: SVG',
      422,
      'ImageDecodeError',
      () => api.upload('drawing.svg', img.svg!, 'image', 'image/svg+xml'),
      'SVG is refused by format, whatever the name',
    );
    await bad('upload: PNG declaring 30000x30000 pixels (90 bytes)', 413, 'ImageTooLargeError', () =>
      api.upload('huge.png', img.hugePng!),
    );
    await bad(
      'upload: larger than FACEEMBED_MAX_IMAGE_BYTES',
      413,
      'ImageTooLargeError',
      () => api.upload('too-big.jpg', Buffer.concat([img.face!, Buffer.alloc(MAX_BYTES)])),
      'the partial temporary file is removed',
    );
    await bad(
      'upload: truncated JPEG (first third)',
      422,
      'ImageDecodeError',
      () => api.upload('truncated.jpg', img.truncatedJpeg!),
      'the upload is decoded in full before anything is stored',
    );
    await section.check(
      'upload: client disconnects in the middle of the file',
      'no crop row; the temporary upload file is removed',
      async () => {
        const before = await snapshot();
        const boundary = 'CutOffBoundary';
        const req = http.request(`${server.baseUrl}${CROPS}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${KEYS[0]}`,
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': String(MAX_BYTES),
          },
        });
        req.on('error', () => {}); // the socket is destroyed on purpose
        req.write(
          `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="face.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
        );
        req.write(Buffer.alloc(256 * 1024, 0xab));
        // The upload is being streamed to disk once its temporary file exists.
        await waitFor(
          () =>
            existsSync(path.join(ws.mediaRoot, 'uploads')) &&
            readdirSync(path.join(ws.mediaRoot, 'uploads')).some((f) => f.endsWith('.part')),
          10_000,
        );
        req.destroy();
        try {
          await waitFor(() => listFiles(ws.mediaRoot).join('\n') === before.files.join('\n'), 5_000);
        } catch {
          assert.deepEqual(listFiles(ws.mediaRoot), before.files, 'no file left 5 s after the disconnect');
        }
        assert.deepEqual(await snapshot(), before);
        expectEmbedding(await api.post(generatePath(faceId)), DIMS);
        section.count('badInputs');
        return 'nothing written; the server serves the next request';
      },
    );
    await bad('upload: multipart body cut short', 400, 'ValidationError', () =>
      api.call('POST', CROPS, {
        body: '--XyZ\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff',
        headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
      }),
    );
  });

  test('odd but valid images', async () => {
    await good(
      '1x1 PNG (judgement call)',
      '201 (a valid image is a valid crop); embedding: 200 (the whole image is used when no face is found) or 422 NoFaceDetectedError',
      async () => {
        const r = await api.upload('dot.png', img.onePixel!);
        assert.equal(r.status, 201, r.text);
        const crop = r.json as { id: number; width: number; height: number };
        assert.deepEqual([crop.width, crop.height], [1, 1]);
        const e = await api.post(generatePath(crop.id));
        const seen = outcome(e);
        if (e.status === 200) expectEmbedding(e, DIMS);
        else expectError(e, 422, 'NoFaceDetectedError');
        return `201 (1x1); embedding ${seen}`;
      },
    );
    await good('animated GIF (3 frames)', '201, first frame used; embedding 200', async () => {
      const { crop } = await uploadAndEmbed('anim.gif', img.animatedGif!);
      assert.deepEqual([crop.width, crop.height], [160, 120], 'one frame, not the stacked strip');
      return `201 (${crop.width}x${crop.height}: one frame); embedding 200`;
    });
    await good('CMYK JPEG', '201; embedding 200, close to the RGB original', async () => {
      const { embedding } = await uploadAndEmbed('cmyk.jpg', img.cmykJpeg!);
      assert.ok(cosine(embedding, upright) > 0.95, sim(embedding));
      return `201; embedding 200, cosine to the RGB original ${sim(embedding)}`;
    });
    await good('16-bit PNG', '201; embedding 200, same as the 8-bit original', async () => {
      const { embedding } = await uploadAndEmbed('deep.png', img.png16!);
      assert.ok(cosine(embedding, upright) > 0.99, sim(embedding));
      return `201; embedding 200, cosine to the 8-bit original ${sim(embedding)}`;
    });
    await good(
      'EXIF-rotated JPEG (pixels turned, orientation 6)',
      '201 with the upright size; embedding 200, same as the upright photo',
      async () => {
        const { crop, embedding } = await uploadAndEmbed('rotated.jpg', img.exifRotated!);
        assert.equal(crop.width, 320, 'width after EXIF orientation');
        assert.ok(crop.height < crop.width);
        assert.ok(cosine(embedding, upright) > 0.99, sim(embedding));
        return `201 (${crop.width}x${crop.height}, upright); embedding 200, cosine to upright ${sim(embedding)}`;
      },
    );
    await good('grayscale JPEG (1 channel)', '201; embedding 200', async () => {
      const { embedding } = await uploadAndEmbed('gray.jpg', img.grayscale!);
      return `201; embedding 200, cosine to the colour original ${sim(embedding)}`;
    });
    await good('unicode file name (registered by path)', '201 with the name kept; embedding 200', async () => {
      const r = await api.post(CROPS, { image_path: UNICODE_NAME });
      assert.equal(r.status, 201, r.text);
      assert.equal((r.json as { image_path: string }).image_path, UNICODE_NAME);
      expectEmbedding(await api.post(generatePath((r.json as { id: number }).id)), DIMS);
      return '201, image_path kept as sent; embedding 200';
    });
  });

  test('paths', async () => {
    const reg = (p: unknown) => () => api.post(CROPS, { image_path: p });
    await bad('image_path: missing file', 422, 'FileNotFoundError', reg('faces/nobody.jpg'));
    await bad('image_path: empty file', 422, 'ImageDecodeError', reg('faces/empty.jpg'));
    await bad('image_path: text file named .jpg', 422, 'ImageDecodeError', reg('faces/text.jpg'));
    await bad('image_path: SVG', 422, 'ImageDecodeError', reg('faces/drawing.svg'));
    await bad('image_path: PNG declaring 30000x30000', 413, 'ImageTooLargeError', reg('faces/huge.png'));
    await bad('image_path: file over the byte limit', 413, 'ImageTooLargeError', reg('faces/too-big.jpg'));
    await bad('image_path: ../../etc/passwd', 400, 'ValidationError', reg('../../etc/passwd'));
    await bad('image_path: /etc/passwd (absolute)', 400, 'ValidationError', reg('/etc/passwd'));
    await bad(
      'image_path: absolute path inside the media root',
      400,
      'ValidationError',
      reg(path.join(ws.mediaRoot, 'faces/face.jpg')),
    );
    await bad(
      'image_path: %2e%2e%2f%2e%2e%2fetc%2fpasswd',
      400,
      'ValidationError',
      reg('%2e%2e%2f%2e%2e%2fetc%2fpasswd'),
    );
    await bad(
      'image_path: double-encoded faces/%252e%252e/%252e%252e/etc/passwd',
      400,
      'ValidationError',
      reg('faces/%252e%252e/%252e%252e/etc/passwd'),
    );
    await bad('image_path: backslashes ..\\..\\etc\\passwd', 400, 'ValidationError', reg('..\\..\\etc\\passwd'));
    await bad('image_path: NUL byte', 400, 'ValidationError', reg('faces/face.jpg\u0000.png'));
    await bad(
      'image_path: symlink to an image outside the media root',
      400,
      'ValidationError',
      reg('faces/escape.jpg'),
    );
    await bad('image_path: a directory', 400, 'ValidationError', reg('faces'));
    await bad('image_path: a number', 400, 'ValidationError', reg(42));
  });

  test('request bodies', async () => {
    await bad('malformed JSON', 400, 'ValidationError', () =>
      api.call('POST', CROPS, {
        body: '{"image_path": "faces/face.jpg"',
        headers: { 'content-type': 'application/json' },
      }),
    );
    await bad('wrong content type (text/plain)', 415, 'ValidationError', () =>
      api.call('POST', CROPS, { body: 'faces/face.jpg', headers: { 'content-type': 'text/plain' } }),
    );
    await bad('JSON nested 5000 levels deep (person metadata)', 400, 'ValidationError', () =>
      api.call('POST', '/api/attendance/persons/', {
        body: `{"name":"x","metadata":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
        headers: { 'content-type': 'application/json' },
      }),
    );
    await bad('JSON body over 256 KiB', 413, 'ValidationError', () =>
      api.post(CROPS, { image_path: 'faces/face.jpg', label: 'x'.repeat(300_000) }),
    );
  });

  test('generate and batch parameters', async () => {
    const batch = (body: unknown) => () => api.post(BATCH, body);
    await bad('batch: ids as strings ["1"]', 400, 'ValidationError', batch({ face_crop_ids: [String(faceId)] }));
    await bad('batch: negative id', 400, 'ValidationError', batch({ face_crop_ids: [-faceId] }));
    await bad('batch: float id', 400, 'ValidationError', batch({ face_crop_ids: [faceId + 0.5] }));
    await bad(
      'batch: 10,000 ids',
      400,
      'ValidationError',
      batch({ face_crop_ids: Array.from({ length: 10_000 }, (_, i) => i + 1) }),
    );
    await bad('batch: empty id list', 400, 'ValidationError', batch({ face_crop_ids: [] }));
    await bad(
      'batch: unknown model',
      400,
      'ValueError',
      batch({ face_crop_ids: [faceId], model_name: 'no-such-model' }),
    );
    await bad(
      'batch: force_regenerate "true" (a string)',
      400,
      'ValidationError',
      batch({ face_crop_ids: [faceId], force_regenerate: 'true' }),
    );
    await bad('generate: crop id "abc" in the path', 400, 'ValidationError', () => api.post(generatePath('abc'), {}));
    await bad('generate: crop id -1 in the path', 400, 'ValidationError', () => api.post(generatePath(-1), {}));
    await bad('generate: crop id 2^31 in the path', 400, 'ValidationError', () => api.post(generatePath(2 ** 31), {}));
    await bad('generate: crop that does not exist', 404, 'NotFoundError', () => api.post(generatePath(999_999), {}));
    await bad('generate: model_name a number', 400, 'ValidationError', () =>
      api.post(generatePath(faceId), { model_name: 7 }),
    );
    await bad('generate: force_regenerate 1 (a number)', 400, 'ValidationError', () =>
      api.post(generatePath(faceId), { force_regenerate: 1 }),
    );

    await good('batch: duplicate ids [a, a, b]', '200, each id answered once in request order', async () => {
      const r = await api.post(BATCH, { face_crop_ids: [faceId, faceId, 999_999] });
      assert.equal(r.status, 200, r.text);
      const body = r.json as { results: { face_crop_id: number; status: string; error?: { type: string } }[] };
      assert.deepEqual(
        body.results.map((x) => [x.face_crop_id, x.status, x.error?.type]),
        [
          [faceId, 'existing', undefined],
          [999_999, 'failed', 'NotFoundError'],
        ],
      );
      return '200: [a existing, b failed NotFoundError] — one item per distinct id, the missing one fails alone';
    });
  });

  test('API keys', async () => {
    const anon = new Api(server.baseUrl);
    await bad(
      'no Authorization header (keys configured)',
      401,
      'AuthenticationError',
      () => anon.post(CROPS, { image_path: 'faces/face.jpg' }),
      'WWW-Authenticate: Bearer',
      (r) => assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/),
    );
    await bad('wrong API key', 401, 'AuthenticationError', () =>
      anon.post(CROPS, { image_path: 'faces/face.jpg' }, { headers: { authorization: 'Bearer k-alpha-0123456788' } }),
    );
    await bad('API key sent as Basic credentials', 401, 'AuthenticationError', () =>
      anon.post(
        CROPS,
        { image_path: 'faces/face.jpg' },
        { headers: { authorization: `Basic ${Buffer.from(`x:${KEYS[0]}`).toString('base64')}` } },
      ),
    );
    await bad('no key, generate via a different spelling of /api (//API/…)', 401, 'AuthenticationError', () =>
      anon.post(`//API${generatePath(faceId).slice(4)}`, { force_regenerate: true }),
    );
    await good(
      'the second configured key; /healthz without a key',
      '201 with the second key; /healthz 200 without one',
      async () => {
        const r = await anon.post(
          CROPS,
          { image_path: 'faces/face.jpg' },
          { headers: { authorization: `Bearer ${KEYS[1]}` } },
        );
        assert.equal(r.status, 201, r.text);
        assert.equal((await anon.get('/healthz')).status, 200);
        return '201; /healthz 200';
      },
    );
    // Last: it blocks this client address for the rest of the window.
    await bad(
      'wrong API keys, one after another from one address (FACEEMBED_AUTH_MAX_FAILURES=20)',
      429,
      'OverloadedError',
      async () => {
        let r: Reply | undefined;
        for (let i = 0; i < 25; i++) {
          r = await anon.post(
            CROPS,
            { image_path: 'faces/face.jpg' },
            { headers: { authorization: `Bearer guess-${i}` } },
          );
          if (r.status !== 401) break;
        }
        // Blocked now even with a right key: a guesser learns nothing from the answers.
        return anon.post(CROPS, { image_path: 'faces/face.jpg' }, { headers: { authorization: `Bearer ${KEYS[1]}` } });
      },
      'the right key too, until Retry-After',
      (r) => assert.ok(Number(r.headers.get('retry-after')) >= 1, 'Retry-After'),
    );
  });
});
