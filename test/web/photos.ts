// Photos for the browser test, from the shared labelled dataset: enrolment photos of three
// people, and a "class photo" stitched from other photos of two of them and of a stranger.
import path from 'node:path';
import sharp from 'sharp';
import { DATASET } from '../helpers/paths.js';

const photo = (n: number) => path.join(DATASET, `img${n}.jpg`);

/** Same-person groups of the dataset (its README); the names are ours. */
export const PEOPLE = [
  { name: 'Ada Lovelace', externalId: 'S-001', enrol: [1, 2, 5].map(photo), inClassPhoto: photo(4) },
  { name: 'Grace Hopper', externalId: 'S-002', enrol: [8, 9].map(photo), inClassPhoto: photo(47) },
  { name: 'Alan Turing', externalId: 'S-003', enrol: [26, 27].map(photo), inClassPhoto: null },
] as const;
/** Nobody enrolled: must come out unknown. */
export const STRANGER = photo(39);

/** The photos side by side, each scaled to `height` (or its own height), on a white background (JPEG). */
export async function stitch(files: readonly string[], height = 520, heights: readonly number[] = []): Promise<Buffer> {
  const tiles = await Promise.all(
    files.map(async (f, i) => {
      const data = await sharp(f)
        .rotate()
        .resize({ height: heights[i] ?? height })
        .jpeg({ quality: 92 })
        .toBuffer();
      const { width } = await sharp(data).metadata();
      return { data, width: width! };
    }),
  );
  const gap = 20;
  const total = tiles.reduce((w, t) => w + t.width, 0) + gap * (tiles.length + 1);
  let left = gap;
  const layers = tiles.map((t) => {
    const layer = { input: t.data, left, top: gap };
    left += t.width + gap;
    return layer;
  });
  return sharp({ create: { width: total, height: height + 2 * gap, channels: 3, background: '#ffffff' } })
    .composite(layers)
    .jpeg({ quality: 92 })
    .toBuffer();
}

/** The class photo of the test: Ada and Grace (other photos than their enrolment ones) and a stranger. */
export function classPhoto(): Promise<Buffer> {
  return stitch([PEOPLE[0].inClassPhoto, STRANGER, PEOPLE[1].inClassPhoto]);
}

/** Someone not enrolled, in two photos of the second session: their faces cluster. */
export const NEWCOMER = { name: 'Katherine Johnson', photos: [photo(29), photo(30)] } as const;

/** The second session: the newcomer twice, and Ada far at the back (a small face, a match to confirm). */
export function secondClassPhoto(): Promise<Buffer> {
  return stitch([...NEWCOMER.photos, photo(7)], 520, [520, 520, 110]);
}

/** A second photo of the first session: Ada and Grace again, in other photos of them. */
export function retakePhoto(): Promise<Buffer> {
  return stitch([photo(7), photo(48)]);
}
