// Media encrypted at rest (FACEEMBED_MEDIA_KEY) on both databases, with the real embedder: the
// files on disk are not images (no JPEG can be read from them), every path that reads them
// (the workers' detection and embedding, the faces cut from a class photo, the image routes)
// opens them, an altered file is a typed error and never pixels, and a wrong or missing key
// stops the server and the CLI at start.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/config.js';
import { MediaStorage } from '../../src/repositories/media-storage.js';
import { GroupRepository } from '../../src/repositories/group.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { BIN, sample } from '../helpers/paths.js';
import { DB_TARGETS } from '../repositories/db-targets.js';
import { assertError, buildTestApp, CROPS, form, startEmbedder, type TestApp, type TestEmbedder } from './helper.js';
import { samplesPhoto } from './media-images.js';

const SESSIONS = '/api/attendance/sessions/';
const KEY = randomBytes(32).toString('hex');
/**
 * Whether a stored file shows a 64-byte run of a plaintext image (its head, middle or tail).
 * Three bytes such as a JPEG marker turn up in random ciphertext now and then; 64 never do.
 */
const showsPlaintext = (stored: Buffer, plain: Buffer) =>
  [0, plain.length >> 1, plain.length - 64].some((at) => stored.includes(plain.subarray(at, at + 64)));

const isType = (type: string) => (e: Error & { type?: string }) => {
  assert.equal(e.type, type, e.message);
  return true;
};

/** Runs the CLI against a media root with the given key settings; its exit code and stderr. */
function cli(args: string[], env: Record<string, string>) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEEMBED_')));
  const run = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...inherited, FACEEMBED_LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, stderr: run.stderr, stdout: run.stdout };
}

let emb: TestEmbedder;
before(async () => {
  // The workers get the key from their parent, as the server's do.
  emb = await startEmbedder({ config: loadConfig({ FACEEMBED_MEDIA_KEY: KEY, FACEEMBED_LOG_LEVEL: 'silent' }) });
});
after(() => emb?.close());

for (const target of DB_TARGETS) {
  describe(`media encrypted at rest (${target.name})`, { skip: target.skip }, () => {
    let t: TestApp;
    let annId = 0;
    let groupId = 0;
    const stored = async () => {
      const names = await readdir(path.join(t.mediaRoot, 'uploads'));
      return Promise.all(names.map((n) => readFile(path.join(t.mediaRoot, 'uploads', n))));
    };
    before(async () => {
      t = await buildTestApp(target, emb.embedder, { FACEEMBED_MEDIA_KEY: KEY });
      annId = (await new PersonRepository(t.db).create({ name: 'ann' })).id;
      groupId = (await new GroupRepository(t.db).create({ name: 'enc' })).id;
      await new GroupRepository(t.db).addMembers(groupId, [annId]);
    });
    after(() => t?.close());

    test('uploads are stored encrypted and read back whole by every path', async () => {
      const original = await readFile(sample(1));
      const res = await t.app.inject({
        method: 'POST',
        url: CROPS,
        ...(await form({ image: { data: original, filename: 'a.jpg' }, person_id: String(annId) })),
      });
      assert.equal(res.statusCode, 201, res.body);
      const crop = res.json();
      const onDisk = await readFile(path.join(t.mediaRoot, crop.image_path));
      assert.equal(onDisk.subarray(0, 4).toString('latin1'), 'FEMC');
      await assert.rejects(sharp(onDisk).metadata(), 'not readable as an image');

      const served = await t.app.inject({ method: 'GET', url: `${CROPS}${crop.id}/image` });
      assert.equal(served.statusCode, 200);
      assert.ok(!showsPlaintext(onDisk, served.rawPayload), 'no run of the image in the file');
      const m = await sharp(served.rawPayload).metadata();
      assert.deepEqual([m.format, m.width, m.height], ['jpeg', crop.width, crop.height]);

      const gen = await t.app.inject({
        method: 'POST',
        url: `${CROPS}${crop.id}/generate-embedding/`,
        payload: { model_name: 'facenet', force_regenerate: true },
      });
      assert.equal(gen.statusCode, 200, gen.body);

      const session = (await t.app.inject({ method: 'POST', url: SESSIONS, payload: { group_id: groupId } })).json();
      const upload = await t.app.inject({
        method: 'POST',
        url: `${SESSIONS}${session.id}/photos/`,
        ...(await form({ image: { data: await samplesPhoto([1, 2]), filename: 'c.jpg' } })),
      });
      assert.equal(upload.statusCode, 201, upload.body);
      const photo = upload.json();
      assert.ok(photo.faces.length >= 2, upload.body);
      assert.ok(
        photo.faces.some((f: { person_id: number | null }) => f.person_id === annId),
        'the enrolled face is recognised from encrypted files',
      );
      const image = await t.app.inject({
        method: 'GET',
        url: `${SESSIONS}${session.id}/photos/${photo.photo_id}/image`,
      });
      assert.equal(image.statusCode, 200);
      assert.equal((await sharp(image.rawPayload).metadata()).width, photo.width);
      for (const data of await stored()) {
        assert.equal(data.subarray(0, 4).toString('latin1'), 'FEMC', 'every stored file is encrypted');
        assert.ok(!showsPlaintext(data, served.rawPayload) && !showsPlaintext(data, image.rawPayload));
      }
    });

    test('an altered file is a typed error, never an image', async () => {
      const crop = (await t.app.inject({ method: 'GET', url: `${CROPS}?page_size=1` })).json().results[0];
      const file = path.join(t.mediaRoot, crop.image_path);
      const data = await readFile(file);
      const altered = Buffer.from(data);
      altered[altered.length - 40]! ^= 0x01;
      await writeFile(file, altered);
      try {
        assertError(await t.app.inject({ method: 'GET', url: `${CROPS}${crop.id}/image` }), 422, 'ImageDecodeError');
        const gen = await t.app.inject({
          method: 'POST',
          url: `${CROPS}${crop.id}/generate-embedding/`,
          payload: { model_name: 'facenet', force_regenerate: true },
        });
        assertError(gen, 422, 'ImageDecodeError');
      } finally {
        await writeFile(file, data);
      }
    });

    test('a wrong or missing key is refused at start', async () => {
      const right = Buffer.from(KEY, 'hex');
      await new MediaStorage(t.mediaRoot, { key: right }).checkKey(); // writes the check file at first use
      await new MediaStorage(t.mediaRoot, { key: right }).checkKey();
      await assert.rejects(
        new MediaStorage(t.mediaRoot, { key: randomBytes(32) }).checkKey(),
        isType('ValidationError'),
      );
      await assert.rejects(new MediaStorage(t.mediaRoot).checkKey(), isType('ValidationError'));

      const base = { FACEEMBED_MEDIA_ROOT: t.mediaRoot, FACEEMBED_DATABASE_URL: t.opened.url };
      const wrong = randomBytes(32).toString('base64');
      for (const args of [['fsck'], ['serve', '--port', '0']]) {
        for (const env of [{ FACEEMBED_MEDIA_KEY: wrong }, {}] as Record<string, string>[]) {
          const run = cli(args, { ...base, ...env });
          assert.equal(run.code, 1, `${args[0]} exits 1: ${run.stderr}`);
          assert.match(run.stderr, /ValidationError/);
          assert.match(run.stderr, /media key|encrypted/i);
          assert.ok(!run.stderr.includes(KEY) && !run.stderr.includes(wrong), 'no key in the message');
        }
      }
      const ok = cli(['fsck', '--json'], { ...base, FACEEMBED_MEDIA_KEY: KEY });
      assert.doesNotMatch(ok.stderr, /ValidationError/);
      assert.deepEqual(JSON.parse(ok.stdout).missing_files, []);
    });
  });
}
