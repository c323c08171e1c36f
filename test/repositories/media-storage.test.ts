import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { normaliseRelativePath } from '../../src/repositories/media-paths.js';
import { MediaStorage } from '../../src/repositories/media-storage.js';

const isType = (type: string) => (e: Error & { type?: string }) => {
  assert.equal(e.type, type, e.message);
  return true;
};

test('normaliseRelativePath keeps plain relative paths and tidies them', () => {
  assert.equal(normaliseRelativePath('faces/a.jpg'), 'faces/a.jpg');
  assert.equal(normaliseRelativePath('./faces//a.jpg'), 'faces/a.jpg');
  assert.equal(normaliseRelativePath('100%_a b.jpg'), '100%_a b.jpg');
  assert.equal(normaliseRelativePath('a%20b.jpg'), 'a%20b.jpg', 'names are literal: no decoding');
  assert.equal(normaliseRelativePath('..a/b..jpg'), '..a/b..jpg', 'dots inside a name are fine');
});

test('normaliseRelativePath refuses every way out of the root', () => {
  const bad = [
    '',
    '.',
    './',
    '..',
    '../x.jpg',
    'a/../../x.jpg',
    'a/..',
    '/etc/passwd',
    '//etc/passwd',
    'C:/x.jpg',
    'c:x.jpg',
    'a\\..\\..\\x.jpg',
    '\\\\server\\share\\x.jpg',
    'a\u0000.jpg',
    'a\n.jpg',
    '%2e%2e/x.jpg',
    '%2E%2E%2Fx.jpg',
    'a/%2e%2e%2f%2e%2e%2fetc/passwd',
    '%252e%252e%252fx.jpg',
    '%2fetc%2fpasswd',
    'a%00.jpg',
    'a%5c..%5cx.jpg',
    'x'.repeat(1025),
  ];
  for (const p of bad) assert.throws(() => normaliseRelativePath(p), isType('ValidationError'), JSON.stringify(p));
});

describe('MediaStorage on disk', () => {
  let base: string;
  let root: string;
  let storage: MediaStorage;
  before(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'faceembed-media-'));
    root = path.join(base, 'media');
    await mkdir(path.join(root, 'faces'), { recursive: true });
    await writeFile(path.join(root, 'faces/a.jpg'), 'a');
    await writeFile(path.join(base, 'secret.jpg'), 'outside');
    await symlink(path.join(base, 'secret.jpg'), path.join(root, 'faces/escape.jpg'));
    await symlink(base, path.join(root, 'updir'));
    await symlink(path.join(root, 'faces/a.jpg'), path.join(root, 'inside-link.jpg'));
    storage = new MediaStorage(root);
  });
  after(() => rm(base, { recursive: true, force: true }));

  test('resolve: a file inside the root, also through an inside symlink', async () => {
    assert.deepEqual(await storage.resolve('faces/a.jpg'), {
      relPath: 'faces/a.jpg',
      absPath: path.join(root, 'faces/a.jpg'),
    });
    const viaLink = await storage.resolve('inside-link.jpg');
    assert.equal(viaLink.relPath, 'inside-link.jpg');
    assert.equal(viaLink.absPath, path.join(root, 'faces/a.jpg'));
  });

  test('resolve: symlinks that leave the root are refused', async () => {
    await assert.rejects(storage.resolve('faces/escape.jpg'), isType('ValidationError'));
    await assert.rejects(storage.resolve('updir/secret.jpg'), isType('ValidationError'));
  });

  test('resolve: missing file is FileNotFoundError, a directory is ValidationError', async () => {
    await assert.rejects(storage.resolve('faces/none.jpg'), isType('FileNotFoundError'));
    await assert.rejects(storage.resolve('faces/a.jpg/x'), isType('FileNotFoundError'));
    await assert.rejects(storage.resolve('faces'), isType('ValidationError'));
  });

  test('stageUpload hashes and writes the bytes; commit names the file by format', async () => {
    const data = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const staged = await storage.stageUpload(Readable.from([data.subarray(0, 5), data.subarray(5)]), 10_000);
    assert.equal(staged.sha256, createHash('sha256').update(data).digest('hex'));
    assert.equal(staged.bytes, data.length);
    const file = await storage.commitUpload(staged, 'png');
    assert.match(file.relPath, /^uploads\/[0-9a-f-]{36}\.png$/);
    const stored = await sharp(await readFile(file.absPath)).metadata();
    assert.deepEqual([stored.format, stored.width, stored.height], ['png', 8, 6]);
    assert.ok(!existsSync(staged.tmpPath));
    assert.equal(await storage.removeUpload(file.relPath), true);
    assert.ok(!existsSync(file.absPath));
  });

  test('stageUpload over the byte cap is ImageTooLargeError and leaves nothing behind', async () => {
    const before = await readdir(path.join(root, 'uploads')).catch(() => []);
    await assert.rejects(
      storage.stageUpload(Readable.from([Buffer.alloc(60), Buffer.alloc(60)]), 100),
      isType('ImageTooLargeError'),
    );
    assert.deepEqual(await readdir(path.join(root, 'uploads')), before);
  });

  test('removeUpload never touches files outside uploads/', async () => {
    assert.equal(await storage.removeUpload('faces/a.jpg'), false);
    assert.ok(existsSync(path.join(root, 'faces/a.jpg')));
    await assert.rejects(storage.removeUpload('uploads/../faces/a.jpg'), isType('ValidationError'));
    assert.ok(existsSync(path.join(root, 'faces/a.jpg')));
  });
});
