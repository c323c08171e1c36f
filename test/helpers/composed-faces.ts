// Photos composed from face-api's demo photos: single-face portraits for enrolment, and scenes
// with two faces placed on purpose (one central, one at the edge; or two side by side).
import sharp from 'sharp';
import { sample } from './paths.js';

type Box = [number, number, number, number];

/** Faces of the demo photos (whole-photo detector boxes, rounded): a few different people. */
export const DEMO_FACES = {
  a: { sample: 1, box: [828, 446, 209, 203] as Box },
  b: { sample: 2, box: [1438, 182, 213, 207] as Box },
  c: { sample: 3, box: [1069, 242, 227, 256] as Box },
  d: { sample: 6, box: [668, 365, 217, 254] as Box },
} as const;
export type DemoFace = keyof typeof DEMO_FACES;

/** A square tile of `side` px around the face, the face about half its width (a portrait's framing). */
export async function faceTile(face: DemoFace, side: number): Promise<Buffer> {
  const { sample: n, box } = DEMO_FACES[face];
  const [x, y, w, h] = box;
  const s = Math.round(Math.max(w, h) * 2);
  const meta = await sharp(sample(n)).metadata();
  const left = Math.max(0, Math.min(meta.width! - s, Math.round(x + w / 2 - s / 2)));
  const top = Math.max(0, Math.min(meta.height! - s, Math.round(y + h / 2 - s / 2)));
  return sharp(sample(n)).extract({ left, top, width: s, height: s }).resize(side, side).png().toBuffer();
}

/** A grey canvas with tiles pasted at their places; JPEG. */
export async function compose(
  width: number,
  height: number,
  tiles: { face: DemoFace; side: number; left: number; top: number; blur?: number }[],
): Promise<Buffer> {
  const layers = await Promise.all(
    tiles.map(async (t) => {
      let tile = await faceTile(t.face, t.side);
      if (t.blur) tile = await sharp(tile).blur(t.blur).png().toBuffer();
      return { input: tile, left: t.left, top: t.top };
    }),
  );
  return sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite(layers)
    .jpeg({ quality: 92 })
    .toBuffer();
}

/** One person's portrait: the face about 150 px wide at the centre. */
export const portrait = (face: DemoFace, opts: { blur?: number } = {}) =>
  compose(420, 420, [{ face, side: 300, left: 60, top: 60, ...opts }]);

/**
 * Two faces: `central` at the centre, `edge` a little larger at the left edge. The largest face
 * is the edge one; the face the photo stands for is the central one.
 */
export const centralAndEdge = (central: DemoFace, edge: DemoFace) =>
  compose(800, 400, [
    { face: central, side: 240, left: 280, top: 80 },
    { face: edge, side: 280, left: 0, top: 60 },
  ]);

/** Two faces of the same size side by side: an ambiguous enrolment photo. */
export const sideBySide = (left: DemoFace, right: DemoFace) =>
  compose(640, 360, [
    { face: left, side: 300, left: 10, top: 30 },
    { face: right, side: 300, left: 330, top: 30 },
  ]);
