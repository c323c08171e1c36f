// Images for the media tests: a small class photo made of the sample portraits, a JPEG
// carrying EXIF (a description, a GPS position) and orientation 6, and the metadata check.
import assert from 'node:assert/strict';
import sharp, { type Metadata } from 'sharp';
import { sample } from '../helpers/paths.js';

/** Two sample portraits side by side on a grey canvas: a small class photo. */
export async function samplesPhoto(numbers: readonly number[], width = 480): Promise<Buffer> {
  const tiles = await Promise.all(numbers.map((n) => sharp(sample(n)).rotate().resize({ width }).jpeg().toBuffer()));
  const heights = await Promise.all(tiles.map(async (t) => (await sharp(t).metadata()).height ?? 0));
  return sharp({
    create: {
      width: numbers.length * (width + 40) + 40,
      height: Math.max(...heights) + 40,
      channels: 3,
      background: { r: 120, g: 120, b: 120 },
    },
  })
    .composite(tiles.map((input, i) => ({ input, left: 40 + i * (width + 40), top: 20 })))
    .jpeg({ quality: 92 })
    .toBuffer();
}

/** A JPEG carrying EXIF (a free-text description, GPS position) and orientation 6 (to be turned 90°). */
export async function jpegWithExif(source: Buffer): Promise<Buffer> {
  return sharp(source)
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { ImageDescription: '12 Home Street, Springfield', Artist: 'parent' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1' },
    })
    .jpeg()
    .toBuffer();
}

/** No EXIF, XMP, IPTC, ICC profile or comment; no orientation tag (the pixels stand upright). */
export async function assertNoMetadata(data: Buffer, what: string): Promise<Metadata> {
  const m = await sharp(data).metadata();
  assert.equal(m.exif, undefined, `${what}: no EXIF`);
  assert.equal(m.xmp, undefined, `${what}: no XMP`);
  assert.equal(m.iptc, undefined, `${what}: no IPTC`);
  assert.equal(m.icc, undefined, `${what}: no ICC profile`);
  assert.equal(m.comments, undefined, `${what}: no comments`);
  assert.equal(m.orientation, undefined, `${what}: no orientation tag`);
  assert.ok(!data.includes('Home Street'), `${what}: the description is gone`);
  return m;
}
