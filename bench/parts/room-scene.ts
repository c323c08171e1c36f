// Class photos from whole photos: each source photo (its labelled face and any other faces the
// detector found in it) is scaled so that the labelled face is a chosen width and pasted whole
// on a 4000x3000 canvas, so the people at its edges come along as background faces in a room.
// The bookkeeping (where every labelled and background face lands) is the benchmark's truth.
import sharp, { type OverlayOptions } from 'sharp';
import { CANVAS, shuffle, type Box } from './class-scene.js';

export interface RoomSource {
  file: string;
  /** Who the labelled face is. */
  identity: string;
  /** The labelled face in the source photo. */
  face: Box;
  /** Other faces the detector found in the source photo (unlabelled people). */
  others: readonly Box[];
  /** Source photo size. */
  width: number;
  height: number;
}

export interface RoomTile {
  source: RoomSource;
  /** Width the labelled face should have on the canvas. */
  faceWidth: number;
}

/** How much of a large source photo is kept around its labelled face, in face widths (LFW's 250 px photos stay whole). */
export const MAX_REGION_FACES = 5;

export interface Room {
  jpeg: Buffer;
  /** Labelled faces where they landed (and the photo each came from). */
  faces: { identity: string; box: Box; file: string }[];
  /** Unlabelled faces that came along, where they landed (those centred inside the region shown). */
  background: { box: Box; file: string }[];
}

/** A box of the source photo where it lands once the region from (x0, y0) is scaled by `scale` and put at (left, top). */
export function placeBox(box: Box, at: { x0: number; y0: number; left: number; top: number; scale: number }): Box {
  return [
    at.left + (box[0] - at.x0) * at.scale,
    at.top + (box[1] - at.y0) * at.scale,
    box[2] * at.scale,
    box[3] * at.scale,
  ];
}

/** The part of the source photo a tile shows: all of it, or at most MAX_REGION_FACES face widths around the face. */
export function sourceRegion(source: RoomSource): Box {
  const [x, y, w, h] = source.face;
  const half = (MAX_REGION_FACES * Math.max(w, h)) / 2;
  const x0 = Math.max(0, Math.floor(x + w / 2 - half));
  const y0 = Math.max(0, Math.floor(y + h / 2 - half));
  const x1 = Math.min(source.width, Math.ceil(x + w / 2 + half));
  const y1 = Math.min(source.height, Math.ceil(y + h / 2 + half));
  return [x0, y0, x1 - x0, y1 - y0];
}

/**
 * Where each tile goes: the canvas cut into a grid of equal cells (as many as tiles, or more),
 * one tile per cell in shuffled order, at a random offset inside its cell, so tiles never
 * overlap. A tile larger than its cell is an error (the caller's sizes do not fit the canvas).
 */
export function layoutTiles(
  sizes: readonly { width: number; height: number }[],
  canvas: { width: number; height: number },
  rand: () => number,
): { left: number; top: number }[] {
  const n = sizes.length;
  const cols = Math.max(1, Math.ceil(Math.sqrt((n * canvas.width) / canvas.height)));
  let rows = Math.ceil(n / cols);
  while (cols * rows < n) rows++;
  const cellW = Math.floor(canvas.width / cols);
  const cellH = Math.floor(canvas.height / rows);
  const cells = shuffle(
    Array.from({ length: cols * rows }, (_, i) => i),
    rand,
  );
  return sizes.map((s, i) => {
    if (s.width > cellW || s.height > cellH)
      throw new Error(`A ${s.width}x${s.height} tile does not fit a ${cellW}x${cellH} cell`);
    const cell = cells[i]!;
    return {
      left: (cell % cols) * cellW + Math.floor(rand() * (cellW - s.width + 1)),
      top: Math.floor(cell / cols) * cellH + Math.floor(rand() * (cellH - s.height + 1)),
    };
  });
}

/** The region shown, the scale that gives the labelled face the wanted width, and the tile's size. */
export function tileSize(tile: RoomTile): { region: Box; scale: number; width: number; height: number } {
  const region = sourceRegion(tile.source);
  const scale = tile.faceWidth / tile.source.face[2];
  return {
    region,
    scale,
    width: Math.max(1, Math.round(region[2] * scale)),
    height: Math.max(1, Math.round(region[3] * scale)),
  };
}

/** A background face comes along when its centre lies inside the region shown. */
const inside = (b: Box, r: Box) => {
  const cx = b[0] + b[2] / 2;
  const cy = b[1] + b[3] / 2;
  return cx >= r[0] && cy >= r[1] && cx <= r[0] + r[2] && cy <= r[1] + r[3];
};

export async function composeRoom(tiles: readonly RoomTile[], quality: number, rand: () => number): Promise<Room> {
  const sizes = tiles.map(tileSize);
  const places = layoutTiles(sizes, CANVAS, rand);
  const layers: OverlayOptions[] = [];
  const faces: Room['faces'] = [];
  const background: Room['background'] = [];
  for (const [i, tile] of tiles.entries()) {
    const { region, scale, width, height } = sizes[i]!;
    const at = { ...places[i]!, scale, x0: region[0], y0: region[1] };
    const input = await sharp(tile.source.file)
      .rotate()
      .extract({ left: region[0], top: region[1], width: region[2], height: region[3] })
      .resize(width, height, { kernel: 'lanczos3' })
      .toBuffer();
    layers.push({ input, left: at.left, top: at.top });
    const file = tile.source.file;
    faces.push({ identity: tile.source.identity, box: placeBox(tile.source.face, at), file });
    background.push(
      ...tile.source.others.filter((b) => inside(b, region)).map((b) => ({ box: placeBox(b, at), file })),
    );
  }
  const jpeg = await sharp({
    create: { ...CANVAS, channels: 3, background: { r: 128, g: 124, b: 118 } },
  })
    .composite(layers)
    .jpeg({ quality })
    .toBuffer();
  return { jpeg, faces, background };
}
