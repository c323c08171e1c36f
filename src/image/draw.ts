// Draws detected faces onto a copy of a photo (numbered boxes and the five landmarks) as one
// SVG overlay composited by libvips, so people can look at what the detector found.
import sharp from 'sharp';
import type { DetectedFace } from '../domain/face.js';
import { ImageDecodeError, ValueError } from '../errors.js';
import { DEFAULT_LIMITS, probeImage, type ImageLimits } from './decode.js';

const LANDMARK_COLOURS = ['#00e5ff', '#00e5ff', '#ffea00', '#ff4081', '#ff4081'];

/** The SVG overlay for a width x height image: box i labelled i + 1 (the list's order). */
export function facesSvg(width: number, height: number, faces: readonly DetectedFace[]): string {
  const line = Math.max(2, Math.round(Math.max(width, height) / 600));
  const parts = faces.map((f, i) => {
    const [x, y, w, h] = f.box.map((v) => Math.round(v * 10) / 10) as [number, number, number, number];
    const font = Math.max(12, Math.round(Math.min(48, w / 2.5)));
    const dots = f.landmarks
      .map(
        ([px, py], k) =>
          `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="${Math.max(1.5, w / 40).toFixed(1)}" fill="${LANDMARK_COLOURS[k] ?? '#fff'}"/>`,
      )
      .join('');
    const labelY = y > font ? y - line : y + h + font;
    return (
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#00ff00" stroke-width="${line}"/>` +
      `<text x="${x}" y="${labelY}" font-family="sans-serif" font-size="${font}" font-weight="bold" fill="#00ff00" stroke="#000" stroke-width="${Math.max(1, line / 2)}" paint-order="stroke">${i + 1}</text>` +
      dots
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** Writes the EXIF-oriented photo with the faces drawn on it; the format follows `outPath`'s extension. */
export async function drawFaces(
  imagePath: string,
  faces: readonly DetectedFace[],
  outPath: string,
  limits: ImageLimits = DEFAULT_LIMITS,
): Promise<void> {
  if (!/\.(jpe?g|png|webp)$/i.test(outPath))
    throw new ValueError(`--draw needs a .jpg, .png or .webp file: ${outPath}`);
  const info = await probeImage(imagePath, limits);
  const overlay = Buffer.from(facesSvg(info.width, info.height, faces));
  try {
    // Oriented first, so the overlay (in oriented pixels) lands on the faces.
    const oriented = await sharp(imagePath, { limitInputPixels: limits.maxPixels }).rotate().toBuffer();
    await sharp(oriented, { limitInputPixels: limits.maxPixels })
      .composite([{ input: overlay, top: 0, left: 0 }])
      .toFile(outPath);
  } catch (err) {
    throw new ImageDecodeError(`Cannot draw faces on ${imagePath}: ${(err as Error).message}`);
  }
}
