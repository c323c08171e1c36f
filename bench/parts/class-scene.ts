// Synthetic class photos: face photos of known people pasted on a 4000x3000 canvas, each
// scaled so that its face (as the detector boxes it in the source) is a chosen width, saved
// as JPEG. Every placed face keeps its identity and box, the ground truth of the benchmark.
import sharp, { type OverlayOptions } from 'sharp';

export type Box = [number, number, number, number];

export interface SourceFace {
  file: string;
  identity: string;
  /** The face in the source photo. */
  box: Box;
}

export interface PlacedFace {
  identity: string;
  box: Box;
}

export interface Scene {
  jpeg: Buffer;
  faces: PlacedFace[];
}

export const CANVAS = { width: 4000, height: 3000 } as const;
/** Grid cells: one face per cell, so faces never overlap. */
const CELL = 420;

/** Deterministic pseudo-random numbers in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function shuffle<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export async function composeScene(
  faces: readonly SourceFace[],
  widths: { min: number; max: number },
  quality: number,
  rand: () => number,
): Promise<Scene> {
  const cols = Math.floor(CANVAS.width / CELL);
  const rows = Math.floor(CANVAS.height / CELL);
  const cells = shuffle(
    Array.from({ length: cols * rows }, (_, i) => i),
    rand,
  );
  if (faces.length > cells.length) throw new Error(`At most ${cells.length} faces per scene`);
  const layers: OverlayOptions[] = [];
  const placed: PlacedFace[] = [];
  for (const [i, face] of faces.entries()) {
    const target = widths.min + rand() * (widths.max - widths.min);
    const meta = await sharp(face.file).rotate().metadata();
    const [x, y, w, h] = face.box;
    // The face with half its size around it (hair, shoulders), as a person in a class photo.
    const left = Math.max(0, Math.floor(x - w * 0.5));
    const top = Math.max(0, Math.floor(y - h * 0.5));
    const right = Math.min(meta.autoOrient.width, Math.ceil(x + w * 1.5));
    const bottom = Math.min(meta.autoOrient.height, Math.ceil(y + h * 1.5));
    const scale = target / w;
    const outW = Math.max(1, Math.round((right - left) * scale));
    const outH = Math.max(1, Math.round((bottom - top) * scale));
    const tile = await sharp(face.file)
      .rotate()
      .extract({ left, top, width: right - left, height: bottom - top })
      .resize(outW, outH, { kernel: 'lanczos3' })
      .toBuffer();
    const cell = cells[i]!;
    const cx = (cell % cols) * CELL + Math.floor((CELL - Math.min(outW, CELL)) / 2);
    const cy = Math.floor(cell / cols) * CELL + Math.floor((CELL - Math.min(outH, CELL)) / 2);
    layers.push({ input: tile, left: cx, top: cy });
    placed.push({
      identity: face.identity,
      box: [cx + (x - left) * scale, cy + (y - top) * scale, w * scale, h * scale],
    });
  }
  const jpeg = await sharp({
    create: { width: CANVAS.width, height: CANVAS.height, channels: 3, background: { r: 128, g: 124, b: 118 } },
  })
    .composite(layers)
    .jpeg({ quality })
    .toBuffer();
  return { jpeg, faces: placed };
}

export function iou(a: readonly number[], b: readonly number[]): number {
  const x1 = Math.max(a[0]!, b[0]!);
  const y1 = Math.max(a[1]!, b[1]!);
  const x2 = Math.min(a[0]! + a[2]!, b[0]! + b[2]!);
  const y2 = Math.min(a[1]! + a[3]!, b[1]! + b[3]!);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  return inter / (a[2]! * a[3]! + b[2]! * b[3]! - inter);
}
