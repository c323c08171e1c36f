// Face crops cut out of a photo: each face's box grown by a margin on every side (clipped to
// the photo), stored as its own JPEG. The photo is decoded once; every crop is read from the
// decoded pixels.
import sharp from 'sharp';
import type { Box } from '../domain/face.js';
import { ImageDecodeError } from '../errors.js';
import { DEFAULT_LIMITS, type ImageLimits } from './decode.js';
import { imageSource } from './sealed-file.js';

/** Margin on each side, as a fraction of the box's width and height. */
export const CROP_MARGIN = 0.25;

export interface CutFace {
  /** JPEG bytes. */
  data: Buffer;
  width: number;
  height: number;
  /** The region cut out, in photo pixels. */
  region: Box;
}

/** The box grown by `margin` and clipped to the image, in whole pixels; at least 1x1. */
export function marginRegion(box: Box, imageWidth: number, imageHeight: number, margin = CROP_MARGIN): Box {
  const [x, y, w, h] = box;
  const left = Math.max(0, Math.floor(x - w * margin));
  const top = Math.max(0, Math.floor(y - h * margin));
  const right = Math.min(imageWidth, Math.ceil(x + w * (1 + margin)));
  const bottom = Math.min(imageHeight, Math.ceil(y + h * (1 + margin)));
  const l = Math.min(left, imageWidth - 1);
  const t = Math.min(top, imageHeight - 1);
  return [l, t, Math.max(1, right - l), Math.max(1, bottom - t)];
}

export async function cutFaces(
  photoPath: string | Buffer,
  boxes: readonly Box[],
  limits: ImageLimits = DEFAULT_LIMITS,
  margin = CROP_MARGIN,
): Promise<CutFace[]> {
  if (boxes.length === 0) return [];
  let decoded;
  try {
    decoded = await sharp(await imageSource(photoPath), {
      failOn: 'warning',
      limitInputPixels: limits.maxPixels,
      pages: 1,
    })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    const label = typeof photoPath === 'string' ? photoPath : 'photo';
    throw new ImageDecodeError(`Cannot decode image ${label}: ${(err as Error).message}`);
  }
  const { data, info } = decoded;
  const raw = { width: info.width, height: info.height, channels: info.channels as 3 };
  const out: CutFace[] = [];
  for (const box of boxes) {
    const region = marginRegion(box, info.width, info.height, margin);
    const [left, top, width, height] = region;
    const jpeg = await sharp(data, { raw }).extract({ left, top, width, height }).jpeg({ quality: 90 }).toBuffer();
    out.push({ data: jpeg, width, height, region });
  }
  return out;
}
