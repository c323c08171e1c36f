// Image input on real encoded files: formats, orientation, colour spaces, limits, garbage.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import zlib from 'node:zlib';
import sharp from 'sharp';
import type { FaceembedError } from '../../src/errors.js';
import { decodeImage, decodeSquare, probeImage, sniffFormat } from '../../src/image/decode.js';
import { sample } from '../helpers/paths.js';

let dir: string;
const file = (name: string) => path.join(dir, name);
const isType = (type: string) => (e: FaceembedError) => e.type === type;

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A small, well-formed PNG whose header declares width x height RGB pixels. */
function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(1000))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-image-'));
  const base = sharp(sample(1)).resize(64, 48);
  await base.clone().jpeg().toFile(file('plain.jpg'));
  await base.clone().png().toFile(file('plain.png'));
  await base.clone().webp().toFile(file('plain.webp'));
  await base.clone().gif().toFile(file('plain.gif'));
  await base.clone().grayscale().jpeg().toFile(file('gray.jpg'));
  await base.clone().ensureAlpha(0.5).png().toFile(file('alpha.png'));
  await base.clone().toColourspace('cmyk').jpeg().toFile(file('cmyk.jpg'));
  await base.clone().toColourspace('rgb16').png().toFile(file('deep.png'));
  // Orientation 6: stored 64x48, displayed rotated 90 degrees, i.e. 48x64.
  await base.clone().jpeg().withMetadata({ orientation: 6 }).toFile(file('rotated.jpg'));
  const jpeg = await readFile(file('plain.jpg'));
  await writeFile(file('truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await writeFile(file('empty.jpg'), Buffer.alloc(0));
  await writeFile(file('text.jpg'), 'hello, not an image\n');
  await writeFile(
    file('vector.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
  );
  await writeFile(file('huge.png'), pngDeclaring(30000, 30000));
  await symlink(file('plain.jpg'), file('link.jpg'));
});

test('JPEG, PNG, WebP, GIF, grayscale, alpha, CMYK and 16-bit all decode to 8-bit RGB', async () => {
  for (const name of [
    'plain.jpg',
    'plain.png',
    'plain.webp',
    'plain.gif',
    'gray.jpg',
    'alpha.png',
    'cmyk.jpg',
    'deep.png',
    'link.jpg',
  ]) {
    const { image, info } = await decodeImage(file(name));
    assert.deepEqual([image.width, image.height, info.width, info.height], [64, 48, 64, 48], name);
    assert.equal(image.data.length, 64 * 48 * 3, name);
  }
});

test('colour survives CMYK and 16-bit round trips (close to the RGB original)', async () => {
  const ref = (await decodeImage(file('plain.png'))).image.data;
  for (const name of ['cmyk.jpg', 'deep.png']) {
    const got = (await decodeImage(file(name))).image.data;
    let diff = 0;
    for (let i = 0; i < ref.length; i++) diff += Math.abs(ref[i]! - got[i]!);
    assert.ok(diff / ref.length < 12, `${name}: mean abs diff ${diff / ref.length}`);
  }
});

test('EXIF orientation is applied', async () => {
  const info = await probeImage(file('rotated.jpg'));
  assert.deepEqual([info.width, info.height], [48, 64]);
  const { image } = await decodeImage(file('rotated.jpg'));
  assert.deepEqual([image.width, image.height], [48, 64]);
});

test('decodeSquare letterboxes to the model input and shrinks large photos on load', async () => {
  const { image } = await decodeSquare(sample(2), 150);
  assert.deepEqual([image.width, image.height, image.data.length], [150, 150, 150 * 150 * 3]);
  const { image: small, info } = await decodeImage(sample(2), undefined, 320);
  assert.equal(Math.max(small.width, small.height), 320);
  assert.ok(info.width > 320);
});

test('unreadable inputs are ImageDecodeError; a missing file is FileNotFoundError', async () => {
  for (const name of ['truncated.jpg', 'empty.jpg', 'text.jpg', 'vector.svg']) {
    await assert.rejects(decodeImage(file(name)), isType('ImageDecodeError'), name);
  }
  await assert.rejects(decodeImage(file('nope.jpg')), isType('FileNotFoundError'));
  await assert.rejects(decodeImage(dir), isType('FileNotFoundError'));
});

test('limits are checked from the header and the file size, before decoding', async () => {
  await assert.rejects(
    probeImage(file('huge.png')),
    (e: FaceembedError) => e.type === 'ImageTooLargeError' && e.details?.width === 30000,
  );
  await assert.rejects(probeImage(file('plain.jpg'), { maxBytes: 100, maxPixels: 1e9 }), isType('ImageTooLargeError'));
  await assert.rejects(probeImage(file('plain.jpg'), { maxBytes: 1e9, maxPixels: 1000 }), isType('ImageTooLargeError'));
});

test('one-call decode: an oversized header is still ImageTooLargeError, the format is sniffed from the bytes', async () => {
  await assert.rejects(
    decodeImage(file('huge.png')),
    (e: FaceembedError) => e.type === 'ImageTooLargeError' && e.details?.width === 30000,
  );
  await assert.rejects(
    decodeImage(file('plain.jpg'), { maxBytes: 1e9, maxPixels: 1000 }),
    isType('ImageTooLargeError'),
  );
  const formats = [];
  for (const name of ['plain.jpg', 'plain.png', 'plain.webp', 'plain.gif', 'vector.svg', 'text.jpg']) {
    formats.push(sniffFormat(await readFile(file(name))));
    if (formats.at(-1)) assert.equal((await decodeImage(file(name))).info.format, formats.at(-1), name);
  }
  assert.deepEqual(formats, ['jpeg', 'png', 'webp', 'gif', undefined, undefined]);
});
