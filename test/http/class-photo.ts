// Synthetic class photos for the session tests: face photos of the shared dataset, each
// resized to a width, pasted side by side on a grey canvas.
import path from 'node:path';
import sharp from 'sharp';
import { DATASET } from '../helpers/paths.js';

export async function classPhoto(files: readonly string[], width = 420): Promise<Buffer> {
  const tiles = await Promise.all(
    files.map((f) => sharp(path.join(DATASET, f)).rotate().resize({ width }).jpeg({ quality: 92 }).toBuffer()),
  );
  const metas = await Promise.all(tiles.map((t) => sharp(t).metadata()));
  const height = Math.max(...metas.map((m) => m.height ?? 0)) + 40;
  const canvasWidth = files.length * (width + 40) + 40;
  return sharp({ create: { width: canvasWidth, height, channels: 3, background: { r: 120, g: 120, b: 120 } } })
    .composite(tiles.map((input, i) => ({ input, left: 40 + i * (width + 40), top: 20 })))
    .jpeg({ quality: 92 })
    .toBuffer();
}
