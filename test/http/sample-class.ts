// Class photos made from the repository's own sample photos (face-api's demo/sample*.jpg): a
// few of their people cut out as portraits, and "class photos" that paste those portraits side
// by side, each at its own width and, for a second photo of the day, mirrored and lit a little
// differently. Every face's tile is known, so a test can tell whose face a returned box is.
import sharp, { type Sharp } from 'sharp';
import { sample } from '../helpers/paths.js';

/** A face of a sample photo: the sample and the face's box [x, y, w, h] there (from `faceembed faces`). */
interface SampleFace {
  sample: number;
  box: readonly [number, number, number, number];
}

export const STUDENTS = {
  ann: { sample: 3, box: [1069, 241, 227, 256] },
  bob: { sample: 6, box: [668, 365, 217, 254] },
  cid: { sample: 1, box: [828, 446, 209, 203] },
  /** Never enrolled. */
  stranger: { sample: 4, box: [983, 215, 175, 200] },
} as const satisfies Record<string, SampleFace>;

export type Who = keyof typeof STUDENTS;

/** The face with the head and shoulders around it (twice the box, clamped to the sample). */
async function portrait(who: Who): Promise<Sharp> {
  const { sample: n, box } = STUDENTS[who];
  const { width = 0, height = 0 } = await sharp(sample(n)).metadata();
  const [x, y, w, h] = box;
  const left = Math.max(0, Math.round(x - w / 2));
  const top = Math.max(0, Math.round(y - h / 2));
  const right = Math.min(width, Math.round(x + w * 1.5));
  const bottom = Math.min(height, Math.round(y + h * 1.5));
  return sharp(sample(n)).extract({ left, top, width: right - left, height: bottom - top });
}

/** An enrolment photo: the portrait alone, 360 px wide. */
export async function enrolmentPhoto(who: Who): Promise<Buffer> {
  return (await portrait(who)).resize({ width: 360 }).jpeg({ quality: 92 }).toBuffer();
}

export interface Tile {
  who: Who;
  width: number;
  /** The second take of the day: mirrored and a little brighter. */
  retake?: boolean;
}

export interface ClassPhoto {
  data: Buffer;
  /** Whose tile a face box (in photo pixels) lies in. */
  whoAt(box: readonly number[]): Who;
}

const GAP = 40;

/** The tiles side by side on a grey canvas (JPEG). */
export async function classPhoto(tiles: readonly Tile[]): Promise<ClassPhoto> {
  const images = await Promise.all(
    tiles.map(async (t) => {
      let img = (await portrait(t.who)).resize({ width: t.width });
      if (t.retake) img = img.flop().modulate({ brightness: 1.1 });
      const data = await img.jpeg({ quality: 92 }).toBuffer();
      return { data, height: (await sharp(data).metadata()).height ?? 0 };
    }),
  );
  const lefts: number[] = [];
  let x = GAP;
  for (const t of tiles) {
    lefts.push(x);
    x += t.width + GAP;
  }
  const height = Math.max(...images.map((i) => i.height)) + 2 * GAP;
  const data = await sharp({ create: { width: x, height, channels: 3, background: { r: 120, g: 120, b: 120 } } })
    .composite(images.map((img, i) => ({ input: img.data, left: lefts[i]!, top: GAP })))
    .jpeg({ quality: 92 })
    .toBuffer();
  return {
    data,
    whoAt(box) {
      const centre = box[0]! + box[2]! / 2;
      const i = lefts.findIndex((left, j) => centre >= left && centre < left + tiles[j]!.width);
      if (i < 0) throw new Error(`face box ${box.join(',')} lies in no tile`);
      return tiles[i]!.who;
    },
  };
}
