// The images every part measures: the shared full photos, and tight face crops cut from them
// once (each face found, its box enlarged 1.3x, as a kiosk or a class-photo splitter would
// save it) into a temporary folder as JPEG; optionally also the small crops an attendance
// session stores (the box grown by its 25% margin, src/image/crop.ts), shrunk to 160 px.
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { CROP_MARGIN, marginRegion } from '../../src/image/crop.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import { createLogger } from '../../src/logging/logger.js';
import { mapLimited, median } from './common.js';

/**
 * Same-person groups of deepface-unit, as its README lists them (img11_reflection, a mirrored
 * copy, left out): image numbers, imgN.jpg.
 */
export const IDENTITIES: readonly (readonly number[])[] = [
  [1, 2, 4, 5, 6, 7, 10, 11],
  [3, 12, 53, 54, 55, 56],
  [8, 9, 47, 48, 49, 50, 51],
  [26, 27, 28, 42, 43, 44, 45, 46],
  [13, 14, 15, 57, 58],
  [16, 17, 59, 61, 62],
  [29, 30, 31, 32, 33],
  [34, 35, 36, 37],
  [38, 39, 40, 41],
  [18, 19, 67],
  [20, 21],
  [22, 23],
  [24, 25],
];

export interface Dataset {
  photos: string[];
  crops: string[];
  /** Median longest side of the crops, in pixels. */
  cropSide: number;
  /** 25%-margin crops at SMALL_CROP_SIDE px (empty unless asked for). */
  smallCrops: string[];
  photosWithoutFace: string[];
}

const IMAGE = /\.(jpe?g|png|webp)$/i;
/** How much the detector's box is enlarged to make a tight crop. */
export const CROP_SCALE = 1.3;
/** Longest side of the small crops (a session's stored faces are about this size). */
export const SMALL_CROP_SIDE = 160;

export async function listPhotos(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((f) => IMAGE.test(f));
  return names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((f) => path.join(dir, f));
}

/**
 * Detects every face of every photo (through the library) and writes one JPEG per face into
 * `outDir` (and, with `smallDir`, one small 25%-margin crop per face there).
 */
export async function cutCrops(
  photos: readonly string[],
  outDir: string,
  modelsDir?: string,
  smallDir?: string,
): Promise<Dataset> {
  await mkdir(outDir, { recursive: true });
  if (smallDir) await mkdir(smallDir, { recursive: true });
  const smallCrops: string[] = [];
  const service = new EmbeddingService({ logger: createLogger('silent'), ...(modelsDir ? { modelsDir } : {}) });
  const crops: string[] = [];
  const sides: number[] = [];
  const without: string[] = [];
  try {
    await service.ready();
    const found = await mapLimited(photos, 4, async (photo) => ({ photo, faces: await service.detectFaces(photo) }));
    for (const { photo, faces } of found) {
      if (faces.length === 0) without.push(photo);
      const m = await sharp(photo).metadata();
      // Boxes are in the EXIF-oriented image: orientations 5-8 swap the axes.
      const meta =
        (m.orientation ?? 1) >= 5 ? { width: m.height, height: m.width } : { width: m.width, height: m.height };
      for (const [i, face] of faces.entries()) {
        const [x, y, w, h] = face.box;
        const side = Math.max(w, h) * CROP_SCALE;
        const left = Math.max(0, Math.round(x + w / 2 - side / 2));
        const top = Math.max(0, Math.round(y + h / 2 - side / 2));
        const width = Math.min(meta.width - left, Math.round(side));
        const height = Math.min(meta.height - top, Math.round(side));
        if (width < 16 || height < 16) continue;
        const file = path.join(outDir, `${path.parse(photo).name}-face${i}.jpg`);
        await sharp(photo).rotate().extract({ left, top, width, height }).jpeg({ quality: 90 }).toFile(file);
        crops.push(file);
        sides.push(Math.max(width, height));
        if (!smallDir) continue;
        const [sl, st, sw, sh] = marginRegion(face.box, meta.width!, meta.height!, CROP_MARGIN);
        const small = path.join(smallDir, path.basename(file));
        await sharp(photo)
          .rotate()
          .extract({ left: sl, top: st, width: sw, height: sh })
          .resize(SMALL_CROP_SIDE, SMALL_CROP_SIDE, { fit: 'inside', withoutEnlargement: true })
          .jpeg({ quality: 90 })
          .toFile(small);
        smallCrops.push(small);
      }
    }
  } finally {
    await service.close();
  }
  return {
    photos: [...photos],
    crops,
    cropSide: sides.length ? median(sides) : 0,
    smallCrops,
    photosWithoutFace: without,
  };
}
