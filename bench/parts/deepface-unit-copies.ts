// The accuracy bench's altered copies of the deepface-unit photos: shrunk to class-photo face
// size (LOW_RES), and each photo's largest face cut out as a session stores it (CROP).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { CROP_MARGIN, marginRegion } from '../../src/image/crop.js';
import { createLogger } from '../../src/logging/logger.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';

/** The low-resolution condition: class-photo faces are this small. */
export const LOW_RES = { width: 160, quality: 70 };
/** The tight-crop condition: the largest face cut with a session's margin (src/image/crop.ts), at most this side. */
export const CROP = { side: 160, quality: 90 };

/** The photos shrunk to LOW_RES (never enlarged), same names, in `outDir`. */
export async function lowResCopies(dataDir: string, images: string[], outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  for (const f of images)
    await sharp(path.join(dataDir, f))
      .rotate()
      .resize({ width: LOW_RES.width, withoutEnlargement: true })
      .jpeg({ quality: LOW_RES.quality })
      .toFile(path.join(outDir, f));
}

/**
 * Each photo's largest face (the whole-photo detector) cut with CROP_MARGIN on every side and
 * shrunk to CROP.side, same names, in `outDir`; a photo without a face is shrunk whole.
 */
export async function cropCopies(dataDir: string, images: string[], outDir: string, workers: number): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const service = new EmbeddingService({ workers, logger: createLogger('silent') });
  try {
    for (const f of images) {
      const file = path.join(dataDir, f);
      const faces = await service.detectFaces(file);
      const face = faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
      const { data, info } = await sharp(file).rotate().toBuffer({ resolveWithObject: true });
      const [left, top, width, height] = face
        ? marginRegion(face.box, info.width, info.height, CROP_MARGIN)
        : [0, 0, info.width, info.height];
      await sharp(data)
        .extract({ left, top, width, height })
        .resize(CROP.side, CROP.side, { fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: CROP.quality })
        .toFile(path.join(outDir, f));
    }
  } finally {
    await service.close();
  }
}
