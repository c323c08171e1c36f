// What storing an upload costs with the media rules (docs/privacy.md "Files and encryption"):
// re-encoding it upright without metadata, and sealing / opening it with the media key
// (AES-256-GCM). A sample portrait stretched to a mid-size and to the largest class photo.
//   npm run build && node dist/bench/media-store.js [--runs 5]
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { cleanImage } from '../src/image/clean.js';
import { seal, unseal } from '../src/image/sealed-file.js';
import { median, round } from './parts/common.js';

/** A face-api demo portrait (npm ships it). */
const PORTRAIT = fileURLToPath(import.meta.resolve('@vladmandic/face-api/demo/sample1.jpg'));

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const key = randomBytes(32);
const limits = { maxBytes: 1e9, maxPixels: 1e9 };
const rows: string[] = [
  '| photo | JPEG MB | store without metadata, ms | seal, ms | open, ms |',
  '|---|---|---|---|---|',
];
for (const [w, h] of [
  [1920, 1280],
  [6000, 4000],
] as const) {
  const jpeg = await sharp(PORTRAIT).resize(w, h, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer();
  const times = { clean: [] as number[], seal: [] as number[], open: [] as number[] };
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const clean = await cleanImage(jpeg, 'jpeg', limits);
    times.clean.push(performance.now() - t);
    t = performance.now();
    const sealed = seal(clean.data, key);
    times.seal.push(performance.now() - t);
    t = performance.now();
    unseal(sealed, key);
    times.open.push(performance.now() - t);
  }
  rows.push(
    `| ${w}x${h} | ${round(jpeg.length / 1e6, 2)} | ${round(median(times.clean), 0)} | ${round(median(times.seal), 1)} | ${round(median(times.open), 1)} |`,
  );
}
process.stdout.write(`${rows.join('\n')}\n(median of ${runs} runs, sharp concurrency 1)\n`);
