// Image input: the only module that imports sharp. Every check that can be made from the file
// size or the header runs before a full decode, so a 30000x30000 PNG costs nothing.
import { stat } from 'node:fs/promises';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { FileNotFoundError, ImageDecodeError, ImageTooLargeError } from '../errors.js';
import { SEAL_OVERHEAD, fileIsSealed, imageSource, readImageFile } from './sealed-file.js';

// The worker pool already uses every core; libvips threads on top only contend (next.js#53385).
sharp.concurrency(1);
// Each image is read once; libvips' operation cache would only hold memory.
sharp.cache(false);

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
}

export const DEFAULT_LIMITS: ImageLimits = Object.freeze({ maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 });

/** Formats read by default; SVG (can reference external resources) and raw/vips formats are refused. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif']);

export interface ImageInfo {
  /** After EXIF orientation. */
  width: number;
  height: number;
  format: string;
  bytes: number;
}

/** Interleaved 8-bit RGB pixels, EXIF orientation applied. */
export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

async function fileSize(absPath: string): Promise<number> {
  try {
    const s = await stat(absPath);
    if (!s.isFile()) throw new FileNotFoundError(`Image file not found: ${absPath} (not a regular file)`);
    return s.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new FileNotFoundError(`Image file not found: ${absPath}`);
    }
    throw err;
  }
}

/** `maxPixels` false: read the header without libvips' own pixel check, so we can raise a typed error. */
function open(input: string | Buffer, maxPixels: number | false): Sharp {
  // failOn 'warning': truncated or corrupt data is an error, not a half-grey image.
  return sharp(input, { failOn: 'warning', limitInputPixels: maxPixels, pages: 1 });
}

/** File size (or buffer length) against the limits: an empty or oversized input is refused unread. */
async function checkBytes(input: string | Buffer, limits: ImageLimits): Promise<number> {
  let bytes = typeof input === 'string' ? await fileSize(input) : input.length;
  const label = typeof input === 'string' ? input : 'upload';
  // An encrypted media file (sealed-file.ts) is measured by its content.
  if (typeof input === 'string' && bytes > SEAL_OVERHEAD && (await fileIsSealed(input))) bytes -= SEAL_OVERHEAD;
  if (bytes === 0) throw new ImageDecodeError(`Image file is empty: ${label}`);
  if (bytes > limits.maxBytes) {
    throw new ImageTooLargeError(`Image is ${bytes} bytes; the limit is ${limits.maxBytes}`, {
      bytes,
      maxBytes: limits.maxBytes,
    });
  }
  return bytes;
}

/** Reads only the header: size, format and orientation, checked against the limits. */
export async function probeImage(input: string | Buffer, limits: ImageLimits = DEFAULT_LIMITS): Promise<ImageInfo> {
  const bytes = await checkBytes(input, limits);
  return probeHeader(await imageSource(input), typeof input === 'string' ? input : 'upload', bytes, limits);
}

async function probeHeader(
  input: string | Buffer,
  label: string,
  bytes: number,
  limits: ImageLimits,
): Promise<ImageInfo> {
  let meta: Metadata;
  try {
    meta = await open(input, false).metadata();
  } catch (err) {
    throw new ImageDecodeError(`Cannot read image ${label}: ${(err as Error).message}`);
  }
  const format = meta.format ?? 'unknown';
  if (!ACCEPTED_FORMATS.has(format)) throw new ImageDecodeError(`Unsupported image format "${format}": ${label}`);
  if (!meta.width || !meta.height) throw new ImageDecodeError(`Image has no dimensions: ${label}`);
  const pixels = meta.width * meta.height;
  if (pixels > limits.maxPixels) {
    throw new ImageTooLargeError(
      `Image is ${meta.width}x${meta.height} = ${pixels} pixels; the limit is ${limits.maxPixels}`,
      {
        width: meta.width,
        height: meta.height,
        maxPixels: limits.maxPixels,
      },
    );
  }
  // EXIF orientations 5-8 swap the axes.
  const swap = (meta.orientation ?? 1) >= 5;
  return { width: swap ? meta.height : meta.width, height: swap ? meta.width : meta.height, format, bytes };
}

async function toRgb(pipeline: Sharp, label: string): Promise<RgbImage> {
  try {
    // toColourspace: CMYK, grayscale and 16-bit inputs all arrive as 8-bit sRGB; removeAlpha drops transparency.
    const { data, info } = await pipeline
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { data, width: info.width, height: info.height };
  } catch (err) {
    throw new ImageDecodeError(`Cannot decode image ${label}: ${(err as Error).message}`);
  }
}

/**
 * The header checks of probeImage, then a full decode (shrunk on load, so cheap) that fails on
 * truncated or corrupt data: what an upload must pass before anything is stored.
 */
export async function verifyImage(input: string | Buffer, limits: ImageLimits = DEFAULT_LIMITS): Promise<ImageInfo> {
  const info = await probeImage(input, limits);
  const pipeline = open(await imageSource(input), limits.maxPixels).resize(VERIFY_SIDE, VERIFY_SIDE, {
    fit: 'inside',
    fastShrinkOnLoad: true,
  });
  await toRgb(pipeline, typeof input === 'string' ? input : 'upload');
  return info;
}

/** Side of the throw-away decode of verifyImage: JPEG shrink-on-load still reads every scan. */
const VERIFY_SIDE = 64;

/**
 * The format from the file's first bytes, for the formats libvips recognises the same way; undefined
 * when unsure (then the header is read by libvips first, as probeImage does).
 */
export function sniffFormat(data: Buffer): 'jpeg' | 'png' | 'webp' | 'gif' | undefined {
  const ascii = (from: number, to: number) => data.toString('latin1', from, to);
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  return undefined;
}

/**
 * Full decode to RGB. `maxSide` shrinks large photos on load (JPEG DCT scaling), keeping the aspect
 * ratio. One libvips call for an image of a known format that needs no shrinking (a face crop):
 * libvips' own pixel limit refuses an oversized header before decoding, and only a failure (or a
 * shrunk photo, whose original size is needed) reads the header separately for the typed error.
 */
export async function decodeImage(
  input: string | Buffer,
  limits: ImageLimits = DEFAULT_LIMITS,
  maxSide?: number,
): Promise<{ image: RgbImage; info: ImageInfo }> {
  const bytes = await checkBytes(input, limits);
  const label = typeof input === 'string' ? input : 'upload';
  const data = typeof input === 'string' ? await readImageFile(input) : input;
  const format = sniffFormat(data);
  if (!format) return decodeProbed(data, label, await probeHeader(data, label, bytes, limits), limits, maxSide);
  let pipeline = open(data, limits.maxPixels).rotate();
  if (maxSide) {
    pipeline = pipeline.resize(maxSide, maxSide, {
      fit: 'inside',
      kernel: 'linear',
      fastShrinkOnLoad: true,
      withoutEnlargement: true,
    });
  }
  let image: RgbImage;
  try {
    image = await toRgb(pipeline, label);
  } catch (err) {
    await probeHeader(data, label, bytes, limits); // the typed reason (too many pixels, no image) when it has one
    throw err;
  }
  if (maxSide && Math.max(image.width, image.height) >= maxSide) {
    return { image, info: await probeHeader(data, label, bytes, limits) };
  }
  return { image, info: { width: image.width, height: image.height, format, bytes } };
}

async function decodeProbed(
  data: Buffer,
  label: string,
  info: ImageInfo,
  limits: ImageLimits,
  maxSide: number | undefined,
): Promise<{ image: RgbImage; info: ImageInfo }> {
  let pipeline = open(data, limits.maxPixels).rotate();
  if (maxSide && Math.max(info.width, info.height) > maxSide) {
    pipeline = pipeline.resize(maxSide, maxSide, { fit: 'inside', kernel: 'linear', fastShrinkOnLoad: true });
  }
  return { image: await toRgb(pipeline, label), info };
}

/** The whole image letterboxed (black padding, aspect kept) into a size x size RGB square. */
export async function decodeSquare(
  input: string | Buffer,
  size: number,
  limits: ImageLimits = DEFAULT_LIMITS,
): Promise<{ image: RgbImage; info: ImageInfo }> {
  const info = await probeImage(input, limits);
  const pipeline = open(await imageSource(input), limits.maxPixels)
    .rotate()
    .resize(size, size, { fit: 'contain', background: { r: 0, g: 0, b: 0 }, kernel: 'linear' });
  const image = await toRgb(pipeline, typeof input === 'string' ? input : 'upload');
  return { image, info };
}

/** Already decoded RGB pixels resized by libvips (area-averaging when shrinking): pyramid levels of a photo. */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (width === image.width && height === image.height) return image;
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
