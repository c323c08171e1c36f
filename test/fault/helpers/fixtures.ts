// Images for fault tests, made with sharp from the face-api sample photos: small face photos,
// a deliberately slow one, and the odd and broken files clients send. Nothing is downloaded.
import { execFileSync } from 'node:child_process';
import { crc32 } from 'node:zlib';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { BIN, sample } from '../../helpers/paths.js';

/** A small face photo (sample n, 320 px wide JPEG): fast to decode and embed. */
export function smallFace(n: number, width = 320): Promise<Buffer> {
  return sharp(sample(n)).resize(width).jpeg({ quality: 85 }).toBuffer();
}

/**
 * A 6000x6000 interlaced PNG (~19 MB) of sample 1: interlacing forces a full decode, so one
 * embedding keeps a worker busy for about half a second — long enough to hit it with a signal.
 */
export function slowPng(): Promise<Buffer> {
  return sharp(sample(1))
    .resize(6000, 6000, { kernel: 'nearest', fit: 'fill' })
    .png({ progressive: true, compressionLevel: 1, adaptiveFiltering: false })
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid PNG header declaring width x height pixels, followed by a few bytes of image data. */
export function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Odd but valid images and broken files, by name. */
export async function oddImages(): Promise<Record<string, Buffer>> {
  const face = await smallFace(1);
  const frames = await Promise.all(
    [1, 2, 3].map((n) => smallFace(n, 160).then((b) => sharp(b).resize(160, 120, { fit: 'cover' }).toBuffer())),
  );
  return {
    face,
    empty: Buffer.alloc(0),
    truncatedJpeg: face.subarray(0, Math.floor(face.length / 3)),
    hugePng: pngDeclaring(30_000, 30_000),
    onePixel: await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 200, g: 150, b: 120 } } })
      .png()
      .toBuffer(),
    text: Buffer.from('this is plain text, not a JPEG\n'),
    svg: Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><circle cx="100" cy="100" r="80" fill="tan"/></svg>\n',
    ),
    animatedGif: await sharp(frames, { join: { animated: true } })
      .gif({ loop: 0, delay: [100, 100, 100] })
      .toBuffer(),
    cmykJpeg: await sharp(face).toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer(),
    png16: await sharp(face).toColourspace('rgb16').png().toBuffer(),
    // Pixels stored turned a quarter anticlockwise; EXIF orientation 6 says "turn clockwise to show".
    exifRotated: await sharp(face).rotate(270).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer(),
    grayscale: await sharp(face).grayscale().jpeg({ quality: 90 }).toBuffer(),
  };
}

/** Every file under `root` (hidden and temporary files included), relative, sorted. */
export function listFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

export interface Workspace {
  dir: string;
  mediaRoot: string;
  modelsDir: string;
  close(): Promise<void>;
}

/** A temp dir with media/ and models/ (the built-in models prepared into it by the CLI, ~1 s). */
export async function workspace(prefix: string): Promise<Workspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `faceembed-${prefix}-`));
  const mediaRoot = path.join(dir, 'media');
  const modelsDir = path.join(dir, 'models');
  await mkdir(mediaRoot, { recursive: true });
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEEMBED_')));
  execFileSync(process.execPath, [BIN, 'models', 'prepare', '--quiet'], {
    env: { ...env, FACEEMBED_MODELS_DIR: modelsDir },
    stdio: 'ignore',
  });
  return { dir, mediaRoot, modelsDir, close: () => rm(dir, { recursive: true, force: true }) };
}

export async function writeMedia(root: string, rel: string, data: Buffer): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), data);
}
