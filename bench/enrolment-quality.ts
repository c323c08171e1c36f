// Where enrolment quality starts to cost verification (src/domain/enrolment-quality.ts), on LFW
// dev same-person pairs with the attendance default model at its shipped threshold, size bands
// included (the probe face's width picks the band, as identification does): the first
// photo of each pair is enrolled as PersonService enrols (its principal face, aligned on the
// whole-photo scan's points), the second is the probe (`embed`, 'auto'). Three sweeps of the
// enrolment photo: its face shrunk to a given width (the whole photo scaled, JPEG q90), blurred
// by a Gaussian of a given sigma (its measured sharpness beside), and the natural spread of head
// pose (|yaw| bins). Each row: pairs, median enrolment quality, median similarity, pairs accepted.
// Run: npx tsc -p tsconfig.json && node dist/bench/enrolment-quality.js --data ../shared/datasets/lfw-dev [--pairs 400]
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import type { DetectedFace } from '../src/domain/face.js';
import { thresholdForFace } from '../src/domain/face-threshold.js';
import type { FaceQuality } from '../src/domain/face-quality.js';
import { rankFaces } from '../src/domain/principal-face.js';
import { cosineSimilarity } from '../src/domain/vector.js';
import { cutFaces } from '../src/image/crop.js';
import { createLogger } from '../src/logging/logger.js';
import { ATTENDANCE_MODEL_NAME } from '../src/models/registry.js';
import { EmbeddingService } from '../src/services/embedding.service.js';
import { measureFaceQuality } from '../src/services/face-quality.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/datasets/lfw-dev' },
    pairs: { type: 'string', default: '400' },
    model: { type: 'string', default: ATTENDANCE_MODEL_NAME },
  },
});

const WIDTHS = [24, 32, 40, 48, 64];
const SIGMAS = [1, 2, 3, 4.5];
const YAW_BINS = [0, 10, 20, 30, 40, 90];

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

interface Enrolled {
  quality: FaceQuality;
  embedding: Float32Array;
}

const dir = path.resolve(values.data!);
if (!existsSync(path.join(dir, 'pairs.csv'))) {
  console.error(`LFW dev not found at ${dir} (--data)`);
  process.exit(2);
}
const model = values.model!;
const service = new EmbeddingService({ modelName: model, workers: 2, logger: createLogger('warn') });
await service.ready();
const policy = service.resolveModel(model);
const bandsLabel = `${policy.threshold}${(policy.sizeBands ?? []).map((b) => `, ${b.threshold} below ${b.belowWidth} px`).join('')}`;
const tmp = await mkdtemp(path.join(os.tmpdir(), 'faceembed-enrol-quality-'));

/** As PersonService enrols: the principal face of the whole-photo scan, else the crop path's face. */
async function enrol(file: string): Promise<Enrolled | undefined> {
  const faces = await service.detectFaces(file);
  let face: DetectedFace;
  let embedding: Float32Array;
  try {
    if (faces.length) {
      const meta = await sharp(file).metadata();
      face = faces[rankFaces(faces, { width: meta.width!, height: meta.height! })[0]!]!;
      embedding = (await service.generateEmbedding(file, { face })).embedding;
    } else {
      const e = await service.generateEmbedding(file, { detect: 'enforce' });
      face = { box: e.face.box!, score: e.face.score ?? 0, landmarks: e.face.landmarks ?? [] };
      embedding = e.embedding;
    }
  } catch {
    return undefined;
  }
  const [cut] = await cutFaces(file, [face.box]);
  return { quality: await measureFaceQuality(cut!, face), embedding };
}

let n = 0;
async function variant(file: string, edit: (img: Sharp, width: number) => Sharp): Promise<string> {
  const meta = await sharp(file).metadata();
  const out = path.join(tmp, `v${n++}.jpg`);
  await writeFile(out, await edit(sharp(file), meta.width!).jpeg({ quality: 90 }).toBuffer());
  return out;
}

interface Probe {
  embedding: Float32Array;
  /** The shipped threshold for the probe's face (its size band). */
  threshold: number;
}

interface Row {
  label: string;
  widths: number[];
  /** Per pair whose enrolment face has a sharpness: it, and whether the pair was accepted. */
  sharpness: { s: number; accepted: boolean }[];
  similarities: number[];
  /** Per pair: the similarity reached the probe's threshold (a failed enrolment never does). */
  accepted: boolean[];
}
const row = (label: string): Row => ({ label, widths: [], sharpness: [], similarities: [], accepted: [] });
const add = (r: Row, e: Enrolled | undefined, probe: Probe) => {
  if (!e) {
    r.similarities.push(-1);
    r.accepted.push(false);
    return;
  }
  if (e.quality.widthPx !== null) r.widths.push(e.quality.widthPx);
  const similarity = cosineSimilarity(e.embedding, probe.embedding);
  r.similarities.push(similarity);
  r.accepted.push(similarity >= probe.threshold);
  if (e.quality.sharpness !== null)
    r.sharpness.push({ s: e.quality.sharpness, accepted: similarity >= probe.threshold });
};
const thresholdsUsed = new Map<number, number>();

const pairs = (await readFile(path.join(dir, 'pairs.csv'), 'utf8'))
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','))
  .filter((c) => c[2] === 'Yes');
const step = Math.max(1, Math.floor(pairs.length / Number(values.pairs)));
const chosen = pairs.filter((_, i) => i % step === 0).slice(0, Number(values.pairs));

const full = row('as taken');
const byWidth = new Map(WIDTHS.map((w) => [w, row(`face ${w} px wide`)]));
const bySigma = new Map(SIGMAS.map((s) => [s, row(`blur sigma ${s}`)]));
const byYaw = YAW_BINS.slice(0, -1).map((lo, i) => row(`|yaw| ${lo}-${YAW_BINS[i + 1]} deg`));
function report(done: number): void {
  const used = [...thresholdsUsed].sort((a, b) => b[1] - a[1]).map(([t, k]) => `${t}: ${k}`);
  console.log(
    `${model} at its shipped threshold ${bandsLabel} (by the probe face's width; probes per threshold: ${used.join(', ')}); ${done} LFW dev same-person pairs (${failed} without a face)`,
  );
  console.log('\n| enrolment photo | pairs | median face width px | median sharpness | median similarity | accepted |');
  console.log('|---|---|---|---|---|---|');
  for (const r of [full, ...byWidth.values(), ...bySigma.values(), ...byYaw]) {
    const accepted = r.accepted.filter(Boolean).length;
    console.log(
      `| ${r.label} | ${r.similarities.length} | ${round(median(r.widths))} | ${round(median(r.sharpness.map((x) => x.s)))} | ${round(median(r.similarities), 3)} | ${accepted} (${round((100 * accepted) / Math.max(1, r.similarities.length))}%) |`,
    );
  }
  // Natural sharpness: acceptance by quartile of the enrolment face's own sharpness.
  const natural = [...full.sharpness].sort((a, b) => a.s - b.s);
  console.log('\n| natural sharpness (quartile) | pairs | sharpness range | accepted |');
  console.log('|---|---|---|---|');
  for (let q = 0; q < 4; q++) {
    const part = natural.slice(Math.floor((q * natural.length) / 4), Math.floor(((q + 1) * natural.length) / 4));
    const accepted = part.filter((p) => p.accepted).length;
    console.log(
      `| Q${q + 1} | ${part.length} | ${round(part[0]?.s ?? NaN)}-${round(part.at(-1)?.s ?? NaN)} | ${accepted} (${round((100 * accepted) / Math.max(1, part.length))}%) |`,
    );
  }
}

let failed = 0;
for (const [k, [x, y]] of chosen.entries()) {
  const enrolFile = path.join(dir, 'img', x!);
  const embedded = await service.generateEmbedding(path.join(dir, 'img', y!)).catch(() => undefined);
  const base = await enrol(enrolFile);
  if (!embedded || !base) {
    failed++;
    continue;
  }
  const probe = { embedding: embedded.embedding, threshold: thresholdForFace(policy, embedded.face.box?.[2]) };
  thresholdsUsed.set(probe.threshold, (thresholdsUsed.get(probe.threshold) ?? 0) + 1);
  add(full, base, probe);
  const yaw = Math.abs(base.quality.yaw ?? 0);
  add(byYaw[YAW_BINS.findIndex((b, i) => yaw >= b && yaw < YAW_BINS[i + 1]!)] ?? byYaw.at(-1)!, base, probe);
  const faceWidth = base.quality.widthPx ?? 100;
  for (const w of WIDTHS) {
    const file = await variant(enrolFile, (img, width) => img.resize(Math.max(8, Math.round((width * w) / faceWidth))));
    add(byWidth.get(w)!, await enrol(file), probe);
  }
  for (const s of SIGMAS) {
    add(bySigma.get(s)!, await enrol(await variant(enrolFile, (img) => img.blur(s))), probe);
  }
  if ((k + 1) % 10 === 0) process.stderr.write(`${k + 1}/${chosen.length}\n`);
  if ((k + 1) % 30 === 0 && k + 1 < chosen.length) report(k + 1);
}

report(chosen.length);
await service.close();
await rm(tmp, { recursive: true, force: true });
