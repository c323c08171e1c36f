// Synthetic class photos: each shared photo's face (box from today's detector on that photo
// alone) cut with a margin, scaled to a target face width and pasted without overlap onto a
// plain, noise or blurred-photo background. The paste is the ground truth.
import path from 'node:path';
import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import type { Box } from '../../src/domain/face.js';

export interface FaceSource {
  file: string;
  /** Today's detector box of the photo's largest face, in oriented pixels. */
  box: Box;
  width: number;
  height: number;
}

export type Background = 'plain' | 'noise' | 'blurred-photo';

export interface CanvasSpec {
  width: number;
  height: number;
  background: Background;
  faces: number;
  seed: number;
}

/** mulberry32: a small seeded generator, so every run builds the same canvases. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Width bands drawn evenly, so every reported bin gets faces. */
const BANDS: ReadonlyArray<readonly [number, number]> = [
  [24, 32],
  [32, 48],
  [48, 96],
  [96, 200],
];
/** Margin around the face box in the pasted cut, per side, as a share of the box. */
const MARGIN = 0.3;

async function backgroundOf(spec: CanvasSpec, photo: string): Promise<Sharp> {
  const { width, height } = spec;
  if (spec.background === 'plain')
    return sharp({ create: { width, height, channels: 3, background: { r: 182, g: 176, b: 160 } } });
  if (spec.background === 'noise')
    return sharp({
      create: {
        width,
        height,
        channels: 3,
        background: { r: 0, g: 0, b: 0 },
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    });
  const blurred = await sharp(photo).rotate().resize(width, height, { fit: 'cover' }).blur(30).toBuffer();
  return sharp(blurred);
}

/** Builds one canvas as a JPEG (q90, as a phone writes) and returns the pasted face boxes. */
export async function buildCanvas(
  spec: CanvasSpec,
  sources: readonly FaceSource[],
  outFile: string,
): Promise<{ file: string; truth: Box[] }> {
  const rnd = random(spec.seed);
  const placed: Box[] = [];
  const truth: Box[] = [];
  const layers: OverlayOptions[] = [];
  for (let i = 0; i < spec.faces; i++) {
    const src = sources[Math.floor(rnd() * sources.length)]!;
    const band = BANDS[i % BANDS.length]!;
    const faceWidth = band[0] + rnd() * (band[1] - band[0]);
    const [bx, by, bw, bh] = src.box;
    const left0 = Math.max(0, Math.round(bx - MARGIN * bw)),
      top0 = Math.max(0, Math.round(by - MARGIN * bh));
    const cw = Math.min(src.width - left0, Math.round(bw * (1 + 2 * MARGIN))),
      ch = Math.min(src.height - top0, Math.round(bh * (1 + 2 * MARGIN)));
    const k = faceWidth / bw;
    const pw = Math.max(1, Math.round(cw * k)),
      ph = Math.max(1, Math.round(ch * k));
    let spot: Box | undefined;
    for (let tries = 0; tries < 2000 && !spot; tries++) {
      const c: Box = [Math.floor(rnd() * (spec.width - pw)), Math.floor(rnd() * (spec.height - ph)), pw, ph];
      const gap = 4;
      const clear = placed.every(
        ([x, y, w, h]) =>
          c[0] + c[2] + gap <= x || x + w + gap <= c[0] || c[1] + c[3] + gap <= y || y + h + gap <= c[1],
      );
      if (clear) spot = c;
    }
    if (!spot) break;
    placed.push(spot);
    const input = await sharp(src.file)
      .rotate()
      .extract({ left: left0, top: top0, width: cw, height: ch })
      .resize(pw, ph, { fit: 'fill' })
      .toBuffer();
    layers.push({ input, left: spot[0], top: spot[1] });
    truth.push([spot[0] + (bx - left0) * (pw / cw), spot[1] + (by - top0) * (ph / ch), bw * (pw / cw), bh * (ph / ch)]);
  }
  const bg = await backgroundOf(spec, sources[spec.seed % sources.length]!.file);
  await bg.composite(layers).jpeg({ quality: 90 }).toFile(outFile);
  return { file: path.resolve(outFile), truth };
}
