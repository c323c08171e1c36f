// Which face a photo stands for (src/domain/principal-face.ts), measured on LFW dev photos: the
// labelled face is centred in every deep-funneled photo, so a rule that picks another face is
// wrong. Each photo is read twice, as a whole (the labelled face at the centre) and as a shifted
// 180x180 window (the labelled face up to 35 px off the window's centre in each axis, so a rule
// that only prefers the centre is caught out), by both detectors: the crop path (BlazeFace +
// FaceMesh, what `embed` and face crops use) and the whole-photo scan (RetinaFace + FaceMesh,
// what enrolment and identify use). Prints, for each candidate rule, how often the chosen face is
// the labelled one, and for each plausibility floor how many photos an enrolment would refuse
// and how many wrong choices that refusal catches.
// Run: npm run build && node dist/bench/principal-face.js --data ../shared/datasets/lfw-dev [--limit 1500]
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { Box, DetectedFace } from '../src/domain/face.js';
import {
  PRINCIPAL_POLICY,
  boxIou,
  plausibleFaces,
  principalIndex,
  type PrincipalPolicy,
} from '../src/domain/principal-face.js';
import { loadConfig } from '../src/config/config.js';
import { rescaleFaces } from '../src/detect/rescale.js';
import { decodeImage, type RgbImage } from '../src/image/decode.js';
import { FaceDetector } from '../src/inference/worker/face-detector.js';
import { PhotoDetector } from '../src/inference/worker/photo-detector.js';

const WINDOW = 180;
const MAX_SHIFT = 35;
/** A face whose centre is this close to the photo's centre is the labelled one (LFW centres it). */
const CENTRE_RADIUS = 40;

interface Faces {
  /** The crop path: the face of a tight crop, else BlazeFace's faces. */
  crop: { tight: boolean; faces: DetectedFace[] };
  photo: DetectedFace[];
}
interface Sample {
  file: string;
  width: number;
  height: number;
  /** Where the labelled face's centre is in this image. */
  centre: [number, number];
  faces: Faces;
}

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/datasets/lfw-dev' },
    limit: { type: 'string', default: '1500' },
    cache: { type: 'string' },
  },
});

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const pct = (n: number, d: number) => (d ? `${round((100 * n) / d)}%` : '-');
const centreOf = (b: Box): [number, number] => [b[0] + b[2] / 2, b[1] + b[3] / 2];

/** Every `step`-th photo of the folder, in name order: a spread over people, the same each run. */
async function photos(dir: string, limit: number): Promise<string[]> {
  const all: string[] = [];
  for (const person of (await readdir(path.join(dir, 'img'))).sort())
    for (const f of (await readdir(path.join(dir, 'img', person))).sort()) all.push(path.join(dir, 'img', person, f));
  const step = Math.max(1, Math.floor(all.length / limit));
  return all.filter((_, i) => i % step === 0).slice(0, limit);
}

/** A deterministic offset in [-MAX_SHIFT, MAX_SHIFT] from the file name. */
function shift(file: string, salt: number): number {
  let h = salt;
  for (const c of file) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return (h % (2 * MAX_SHIFT + 1)) - MAX_SHIFT;
}

async function detectBoth(image: RgbImage, crop: FaceDetector, photo: PhotoDetector): Promise<Faces> {
  const tight = await crop.tightCrop(image);
  const cropFaces = tight.face ? [tight.face] : await crop.detect(image);
  const scan = await photo.detect(image);
  const refined = await crop.refineFaces(image, scan.faces);
  return { crop: { tight: !!tight.face, faces: cropFaces }, photo: refined };
}

async function collect(dir: string, limit: number): Promise<Sample[]> {
  const cfg = loadConfig();
  const crop = await FaceDetector.load(cfg.modelsDir, 1);
  const photo = await PhotoDetector.load(cfg.modelsDir, 1);
  const out: Sample[] = [];
  const files = await photos(dir, limit);
  for (const [k, file] of files.entries()) {
    const { image, info } = await decodeImage(file);
    const faces = await detectBoth(image, crop, photo);
    const rel = path.relative(dir, file);
    out.push({ file: rel, width: info.width, height: info.height, centre: [info.width / 2, info.height / 2], faces });
    // The shifted window: the labelled centre (the photo's) lands (sx, sy) off the window's centre.
    const sx = shift(rel, 1),
      sy = shift(rel, 2);
    const left = Math.round(info.width / 2 - WINDOW / 2 - sx),
      top = Math.round(info.height / 2 - WINDOW / 2 - sy);
    if (left < 0 || top < 0 || left + WINDOW > info.width || top + WINDOW > info.height) continue;
    const png = await sharp(file).extract({ left, top, width: WINDOW, height: WINDOW }).png().toBuffer();
    const window = await decodeImage(png);
    const wf = await detectBoth(window.image, crop, photo);
    out.push({
      file: `${rel}#shifted`,
      width: WINDOW,
      height: WINDOW,
      centre: [info.width / 2 - left, info.height / 2 - top],
      faces: {
        crop: { tight: wf.crop.tight, faces: rescaleFaces(wf.crop.faces, window.image, window.info) },
        photo: rescaleFaces(wf.photo, window.image, window.info),
      },
    });
    if ((k + 1) % 100 === 0) process.stderr.write(`${k + 1}/${files.length}\n`);
  }
  return out;
}

/** The labelled face: the one whose centre is nearest the labelled centre, within CENTRE_RADIUS; -1 if not found. */
function labelled(faces: readonly DetectedFace[], centre: [number, number]): number {
  let best = -1,
    bestD = CENTRE_RADIUS;
  faces.forEach((f, i) => {
    const [cx, cy] = centreOf(f.box);
    const d = Math.hypot(cx - centre[0], cy - centre[1]);
    if (d <= bestD) {
      best = i;
      bestD = d;
    }
  });
  return best;
}

const largest = (faces: readonly DetectedFace[]) =>
  faces.reduce((b, f, i) => (b < 0 || f.box[2] * f.box[3] > faces[b]!.box[2] * faces[b]!.box[3] ? i : b), -1);

interface Tally {
  photos: number;
  multi: number;
  found: number;
  right: number;
  wrongMulti: number;
}

function tally(samples: Sample[], which: 'crop' | 'photo', choose: (s: Sample, f: DetectedFace[]) => number): Tally {
  const t: Tally = { photos: 0, multi: 0, found: 0, right: 0, wrongMulti: 0 };
  for (const s of samples) {
    const faces = which === 'crop' ? s.faces.crop.faces : s.faces.photo;
    t.photos++;
    if (faces.length > 1) t.multi++;
    const truth = labelled(faces, s.centre);
    if (truth < 0) continue;
    t.found++;
    if (choose(s, faces) === truth) t.right++;
    else if (faces.length > 1) t.wrongMulti++;
  }
  return t;
}

function main(samples: Sample[]): void {
  const sets = {
    whole: samples.filter((s) => !s.file.endsWith('#shifted')),
    shifted: samples.filter((s) => s.file.endsWith('#shifted')),
  };
  const tight = sets.whole.filter((s) => s.faces.crop.tight).length;
  console.log(
    `photos: ${sets.whole.length} whole (${tight} read as tight crops), ${sets.shifted.length} shifted windows`,
  );
  const rules: [string, (s: Sample, f: DetectedFace[]) => number][] = [['largest (before)', (_s, f) => largest(f)]];
  for (const positionWeight of [0, 1, 2, 4])
    for (const scoreWeight of [0, 0.1, 0.2, 0.5, 1]) {
      const policy: PrincipalPolicy = { ...PRINCIPAL_POLICY, positionWeight, scoreWeight };
      rules.push([`position ${positionWeight}, score ${scoreWeight}`, (s, f) => principalIndex(f, s, policy)]);
    }
  console.log(
    '\n| rule | detector | whole: labelled face chosen | whole: wrong among multi-face | shifted: labelled face chosen | shifted: wrong among multi-face |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const which of ['crop', 'photo'] as const)
    for (const [name, choose] of rules) {
      const w = tally(sets.whole, which, choose),
        sh = tally(sets.shifted, which, choose);
      console.log(
        `| ${name} | ${which} | ${w.right}/${w.found} (${pct(w.right, w.found)}) | ${w.wrongMulti}/${w.multi} | ${sh.right}/${sh.found} (${pct(sh.right, sh.found)}) | ${sh.wrongMulti}/${sh.multi} |`,
      );
    }
  // Plausibility on the whole-photo scan (enrolment's detector): refusals against caught errors.
  console.log(
    '\n| plausible: score >=, width >= x principal | whole photos refused | shifted refused | wrong choices caught (whole + shifted) |',
  );
  console.log('|---|---|---|---|');
  for (const plausibleScore of [0.7, 0.8, 0.9, 0.95])
    for (const plausibleWidth of [0.5, 0.6, 0.7, 0.8]) {
      const policy = { ...PRINCIPAL_POLICY, plausibleScore, plausibleWidth };
      let refusedW = 0,
        refusedS = 0,
        wrong = 0,
        caught = 0;
      for (const s of samples) {
        const faces = s.faces.photo;
        const refused = plausibleFaces(faces, s, policy).length > 1;
        if (refused && s.file.endsWith('#shifted')) refusedS++;
        else if (refused) refusedW++;
        const truth = labelled(faces, s.centre);
        if (truth >= 0 && principalIndex(faces, s, policy) !== truth) {
          wrong++;
          if (refused) caught++;
        }
      }
      console.log(
        `| ${plausibleScore}, ${plausibleWidth} | ${refusedW}/${sets.whole.length} (${pct(refusedW, sets.whole.length)}) | ${refusedS}/${sets.shifted.length} (${pct(refusedS, sets.shifted.length)}) | ${caught}/${wrong} |`,
      );
    }
  // Second faces seen: their scores and widths against the principal's, for the floors above.
  const seconds = sets.whole
    .map((s) => plausibleFaces(s.faces.photo, s, { ...PRINCIPAL_POLICY, plausibleScore: 0, plausibleWidth: 0 }))
    .filter((f) => f.length > 1)
    .map((f) => ({ score: f[1]!.score, ratio: f[1]!.box[2] / f[0]!.box[2], iou: boxIou(f[0]!.box, f[1]!.box) }));
  const q = (v: number[], p: number) => round([...v].sort((a, b) => a - b)[Math.floor(p * (v.length - 1))] ?? NaN, 2);
  const sc = seconds.map((s) => s.score),
    ra = seconds.map((s) => s.ratio);
  console.log(
    `\nwhole photos with a second face (scan): ${seconds.length}; its score p10/p50/p90 ${q(sc, 0.1)}/${q(sc, 0.5)}/${q(sc, 0.9)}, width ratio p10/p50/p90 ${q(ra, 0.1)}/${q(ra, 0.5)}/${q(ra, 0.9)}`,
  );
}

const dir = path.resolve(values.data!);
if (!existsSync(path.join(dir, 'img'))) {
  console.error(`LFW dev photos not found at ${dir} (--data)`);
  process.exit(2);
}
const cache = values.cache;
const samples: Sample[] =
  cache && existsSync(cache)
    ? (JSON.parse(await readFile(cache, 'utf8')) as Sample[])
    : await collect(dir, Number(values.limit));
if (cache && !existsSync(cache)) await writeFile(cache, JSON.stringify(samples));
main(samples);
