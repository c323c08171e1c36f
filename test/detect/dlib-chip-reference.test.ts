// Our dlib chip against dlib itself (Debian's libdlib-dev 19.24, compiled here from
// bench/dlib-chip/chip.cpp): the same decoded pixels and the same landmarks (dlib's 68-point
// shape predictor) in, the same chip bytes out. Skips when g++, libdlib-dev or libdlib-data are absent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { chipPlan, dlibFaceChipDetails, dlibFivePointTemplate } from '../../src/detect/dlib-chip.js';
import { extractDlibChip } from '../../src/detect/dlib-resample.js';
import type { RgbPixels } from '../../src/detect/resample.js';
import { DlibReference, fivePointsOf68, pixelDifference, referenceMissing } from '../../bench/parts/dlib-reference.js';
import { sample } from '../helpers/paths.js';

const missing = await referenceMissing();
const skip = missing ? `dlib reference unavailable: ${missing}` : false;

let ref: DlibReference;
before(async () => {
  if (!skip) ref = await DlibReference.start();
});
after(async () => {
  await ref?.close();
});

async function pixels(file: string, width?: number): Promise<RgbPixels> {
  const pipeline = sharp(file).rotate();
  if (width) pipeline.resize({ width });
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

// The six sample photos as they are (faces 200-270 px: no pyramid) and two enlarged 2.5x, whose
// chips dlib cuts from a pyramid_down<2> level.
const CASES = [1, 2, 3, 4, 5, 6].map((n) => ({ n, width: undefined as number | undefined }));
CASES.push({ n: 1, width: 4800 }, { n: 3, width: 4800 });

for (const { n, width } of CASES) {
  test(`sample${n}${width ? ` at ${width} px` : ''}: our chip is dlib's, byte for byte`, { skip }, async () => {
    const image = await pixels(sample(n), width);
    const raw = await ref.upload(image);
    const p68 = await ref.landmarks(raw);
    assert.ok(p68 && p68.length === 68, 'dlib finds the face and its 68 landmarks');
    const details = dlibFaceChipDetails(p68, 150, 0.25);
    assert.equal(chipPlan(details, image.width, image.height).levels > 0, width !== undefined);
    const theirs = await ref.chip68(raw, p68, 150, 0.25);
    // get_face_chip_details' rectangle and angle, to rounding.
    const { l, t, r, b } = details.rect;
    [l, t, r, b].forEach((v, i) => assert.ok(Math.abs(v - theirs.rect[i]!) < 1e-6, `rect ${v} vs ${theirs.rect[i]}`));
    assert.ok(Math.abs(details.angle - theirs.angle) < 1e-9);
    const d68 = pixelDifference(theirs.pixels, extractDlibChip(image, details).pixels);
    // One unit at most where a sum lands on an integer and the two libm's round apart; none seen so far.
    assert.ok(d68.max <= 1 && d68.mean < 1e-3, `68-point chip differs: max ${d68.max}, mean ${d68.mean}`);
    // Our five points fitted onto the five-point template: dlib's chip_details on the same points.
    const five = fivePointsOf68(p68);
    const theirs5 = await ref.chipFit(raw, dlibFivePointTemplate(150, 0.25), five, 150);
    const d5 = pixelDifference(theirs5.pixels, extractDlibChip(image, dlibFaceChipDetails(five, 150, 0.25)).pixels);
    assert.ok(d5.max <= 1 && d5.mean < 1e-3, `five-point chip differs: max ${d5.max}, mean ${d5.mean}`);
  });
}
