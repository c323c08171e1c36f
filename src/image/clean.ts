// What the service keeps of an uploaded image: the pixels, turned upright, and nothing else.
// EXIF (GPS, camera, free-text fields such as a description or an address), XMP, IPTC, ICC
// profiles and comments are all dropped: sharp writes no metadata unless asked (withMetadata),
// and rotate() applies the EXIF orientation first so that the picture still stands the right way.
import sharp, { type Sharp } from 'sharp';
import { ImageDecodeError } from '../errors.js';
import { DEFAULT_LIMITS, type ImageLimits } from './decode.js';

export type StoredFormat = 'jpeg' | 'png' | 'webp';

/** JPEG and WebP are re-encoded at a quality where the loss is not visible; other formats become PNG (lossless). */
const QUALITY = 92;

export interface CleanImage {
  data: Buffer;
  format: StoredFormat;
}

/** The upright image without metadata, in `format`'s family (jpeg, webp) or PNG. */
export async function cleanImage(
  input: string | Buffer,
  format: string,
  limits: ImageLimits = DEFAULT_LIMITS,
): Promise<CleanImage> {
  const base = sharp(input, { failOn: 'warning', limitInputPixels: limits.maxPixels, pages: 1 }).rotate();
  const [out, encoded] = encoder(base, format);
  try {
    return { data: await encoded.toBuffer(), format: out };
  } catch (err) {
    throw new ImageDecodeError(`Cannot re-encode the image: ${(err as Error).message}`);
  }
}

function encoder(base: Sharp, format: string): [StoredFormat, Sharp] {
  if (format === 'jpeg') return ['jpeg', base.jpeg({ quality: QUALITY })];
  if (format === 'webp') return ['webp', base.webp({ quality: QUALITY })];
  return ['png', base.png()];
}
