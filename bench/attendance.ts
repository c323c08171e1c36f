// Attendance benchmark: the shared dataset's people, one photo each enrolled as a roster;
// synthetic class photos (4000x3000) holding other photos of some members and of people not
// on the roster, at two face sizes; each photo uploaded to its own session over the real HTTP
// app (in-process, SQLite, the full worker pool). Reports per condition: present recall,
// members falsely present, faces given to the wrong member, strangers left unknown, upload to
// answer; and whether greedy assignment would have equalled the optimum. Writes docs/attendance.md.
// Run: npm run bench:attendance -- --data ../shared/datasets/deepface-unit [--photos 6]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../src/config/config.js';
import { needsReview, REVIEW_POLICY, type FaceQuality, type ReviewPolicy } from '../src/domain/face-quality.js';
import { thresholdForFace, type ThresholdPolicy } from '../src/domain/face-threshold.js';
import { buildApp } from '../src/http/app.js';
import { createLogger } from '../src/logging/logger.js';
import { createServices } from '../src/main.js';
import { AttendanceStore } from '../src/repositories/attendance-store.js';
import { openDatabase } from '../src/repositories/database.js';
import { MediaStorage } from '../src/repositories/media-storage.js';
import { migrate } from '../src/repositories/migrate.js';
import { EmbeddingService } from '../src/services/embedding.service.js';
import type { FlipMode } from '../src/inference/protocol.js';
import { ATTENDANCE_MODEL_NAME, ModelRegistry } from '../src/models/registry.js';
import { DEFAULT_FLIP } from '../src/services/embedding.service.js';
import { greedyEqualsOptimum, offlineSolve } from './parts/session-solve.js';
import { composeScene, iou, rng, shuffle, type SourceFace } from './parts/class-scene.js';
import { load1, median, REPO, round } from './parts/common.js';
import { writeSection } from './parts/doc-section.js';
import { IDENTITIES as GROUPS } from './parts/dataset.js';

// The first nine identities are the roster, the last four the strangers; the first photo of a
// member is enrolled, the others appear in class.
const ROSTER = 9;

const CONDITIONS = [
  { name: 'faces 60-150 px, JPEG q90', widths: { min: 60, max: 150 }, quality: 90 },
  { name: 'faces 30-50 px, JPEG q70', widths: { min: 30, max: 50 }, quality: 70 },
];

interface Tally {
  present: number;
  found: number;
  falsePresent: number;
  wrongFace: number;
  strangers: number;
  strangersUnknown: number;
  placed: number;
  detected: number;
  greedyOptimal: number;
  sessions: number;
  seconds: number[];
  /** Every automatic match (right or wrong person) with its face's quality, for the review rule. */
  matches: ReviewCase[];
  /** Members' faces left unknown. */
  missed: number;
}

interface ReviewCase {
  correct: boolean;
  similarity: number;
  /** The threshold the face was decided at (its width's). */
  threshold: number;
  quality: FaceQuality;
  flagged: boolean;
}

/** One measured configuration: the session's model, the flip-averaging of the embedder, the threshold policy. */
interface Config {
  model: string;
  flip: FlipMode;
}
interface Row {
  config: Config;
  policy: string;
  condition: (typeof CONDITIONS)[number];
  t: Tally;
}
const POLICIES = ["the model's threshold", 'size-banded thresholds'] as const;

const emptyTally = (): Tally => ({
  present: 0,
  found: 0,
  falsePresent: 0,
  wrongFace: 0,
  strangers: 0,
  strangersUnknown: 0,
  placed: 0,
  detected: 0,
  greedyOptimal: 0,
  sessions: 0,
  seconds: [],
  matches: [],
  missed: 0,
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      photos: { type: 'string', default: '6' },
      seed: { type: 'string', default: '1' },
      models: { type: 'string', default: 'facenet,hse-faceres,faceplugin-mobilefacenet512' },
      flip: { type: 'string', default: 'never,upsampled' },
    },
  });
  if (!values.data) throw new Error('--data ../shared/datasets/deepface-unit is required');
  const photos = Math.max(1, Number(values.photos));
  const rows: Row[] = [];
  let crowd: { model: string; seconds: number[] } | undefined;
  for (const flip of values.flip.split(',') as FlipMode[]) {
    for (const model of values.models.split(',')) {
      const run = await runConfig(values.data, { model, flip }, photos, Number(values.seed));
      rows.push(...run.rows);
      if (model === new ModelRegistry().get(ATTENDANCE_MODEL_NAME).name && flip === DEFAULT_FLIP)
        crowd = { model, seconds: run.crowd };
    }
  }
  const markdown = render(rows, crowd, photos, process.argv.slice(2).join(' '));
  await writeSection(path.join(REPO, 'docs/attendance.md'), markdown, 'before');
  process.stdout.write(markdown);
}

/** Every condition's sessions under one configuration, on the same scenes (same seed) as every other. */
async function runConfig(data: string, cfg: Config, photos: number, seed: number) {
  const work = await mkdtemp(path.join(tmpdir(), 'faceembed-attendance-'));
  const config = loadConfig({
    FACEEMBED_MEDIA_ROOT: path.join(work, 'media'),
    FACEEMBED_DATABASE_URL: `sqlite:${path.join(work, 'bench.db')}`,
    FACEEMBED_LOG_LEVEL: 'silent',
  });
  const logger = createLogger('silent');
  const db = openDatabase(config.databaseUrl);
  await migrate(db);
  const embedder = new EmbeddingService({ config, logger, flip: cfg.flip });
  const app = await buildApp({
    config,
    db,
    embedder,
    logger,
    services: (observer) => createServices({ db, embedder, config, observer }),
  });
  const store = new AttendanceStore(db);
  try {
    await embedder.ready();
    const model = embedder.resolveModel(cfg.model);
    // The source face of every photo (the largest), for scaling and ground truth.
    const sources = new Map<number, SourceFace>();
    for (const [g, members] of GROUPS.entries()) {
      for (const n of members) {
        const file = path.join(data, `img${n}.jpg`);
        const faces = await embedder.detectFaces(file);
        const best = [...faces].sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
        if (best) sources.set(n, { file, identity: `g${g}`, box: best.box });
      }
    }
    // Roster: persons, one enrolment photo each, one group.
    const personOf = new Map<string, number>();
    const identityOf = new Map<number, string>();
    for (let g = 0; g < ROSTER; g++) {
      const person = await store.persons.create({ name: `member ${g}`, externalId: `g${g}` });
      personOf.set(`g${g}`, person.id);
      identityOf.set(person.id, `g${g}`);
      await store.crops.create({
        ...(await registerFile(config.mediaRoot, sources.get(GROUPS[g]![0]!)!.file)),
        personId: person.id,
      });
    }
    const group = await store.groups.create({ name: 'class' });
    await store.groups.addMembers(group.id, [...personOf.values()]);
    const rand = rng(seed);
    const out: Row[] = [];
    for (const condition of CONDITIONS) {
      const tallies = POLICIES.map(emptyTally);
      for (let p = -1; p < photos; p++) {
        const members = shuffle([...Array(ROSTER).keys()], rand).slice(0, 4 + Math.floor(rand() * 4));
        const strangers = shuffle(
          [...Array(GROUPS.length - ROSTER).keys()].map((i) => i + ROSTER),
          rand,
        ).slice(0, 3);
        const faces = [...members, ...strangers].map((g) => {
          const pool = GROUPS[g]!.slice(g < ROSTER ? 1 : 0).filter((n) => sources.has(n));
          return sources.get(pool[Math.floor(rand() * pool.length)]!)!;
        });
        const scene = await composeScene(faces, condition.widths, condition.quality, rand);
        const session = await json(app, 'POST', '/api/attendance/sessions/', {
          group_id: group.id,
          model_name: cfg.model,
        });
        const started = performance.now();
        const res = await uploadPhoto(app, session.id as number, scene.jpeg);
        const seconds = (performance.now() - started) / 1000;
        if (res.statusCode !== 201) throw new Error(`upload failed: ${res.body}`);
        if (p < 0) continue; // warm-up
        const detected = (res.json() as { faces: { face_crop_id: number; box: number[] }[] }).faces;
        // Ground truth of each detected face: the placed face it overlaps most.
        const truth = new Map<number, string>();
        for (const f of detected) {
          const best = scene.faces.map((pf) => ({ pf, o: iou(pf.box, f.box) })).sort((a, b) => b.o - a.o)[0];
          if (best && best.o > 0.3) truth.set(f.face_crop_id, best.pf.identity);
        }
        const view = await json(app, 'GET', `/api/attendance/sessions/${session.id}/`);
        const shipped = view.attendance as { person_id: number; status: string; face_crop_id: number | null }[];
        const solved = await offlineSolve(store, session.id as number, model, false);
        const greedyOptimal = await greedyEqualsOptimum(store, session.id as number, model);
        const placedIds = new Set(members.map((g) => `g${g}`));
        POLICIES.forEach((_, i) => {
          const t = tallies[i]!;
          const decided = i === 1 ? shipped : solved;
          tallySession(t, { decided, truth, scene, detected, placedIds, identityOf, seconds, greedyOptimal });
          if (i === 1) tallyReview(t, view.photos as { faces: ViewFace[] }[], truth, placedIds, identityOf, model);
        });
      }
      POLICIES.forEach((policy, i) => out.push({ config: cfg, policy, condition, t: tallies[i]! }));
    }
    const crowd = await crowdTiming(app, group.id, cfg.model, [...sources.values()], rand);
    return { rows: out, crowd };
  } finally {
    await app.close();
    await embedder.close();
    await db.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

interface Decided {
  person_id: number;
  status: string;
  face_crop_id: number | null;
}

function tallySession(
  t: Tally,
  s: {
    decided: Decided[];
    truth: Map<number, string>;
    scene: Awaited<ReturnType<typeof composeScene>>;
    detected: { face_crop_id: number }[];
    placedIds: Set<string>;
    identityOf: Map<number, string>;
    seconds: number;
    greedyOptimal: boolean;
  },
): void {
  t.seconds.push(s.seconds);
  t.sessions++;
  if (s.greedyOptimal) t.greedyOptimal++;
  t.placed += s.scene.faces.length;
  t.detected += s.truth.size;
  for (const row of s.decided) {
    const who = s.identityOf.get(row.person_id)!;
    const isThere = s.placedIds.has(who);
    if (isThere) t.present++;
    if (row.status !== 'present') continue;
    if (!isThere) t.falsePresent++;
    const faceIs = row.face_crop_id === null ? undefined : s.truth.get(row.face_crop_id);
    if (faceIs === who) t.found++;
    else t.wrongFace++;
  }
  const held = new Set(s.decided.filter((r) => r.status === 'present').map((r) => r.face_crop_id));
  for (const pf of s.scene.faces.filter((f) => !s.placedIds.has(f.identity))) {
    t.strangers++;
    const face = s.detected.find((f) => s.truth.get(f.face_crop_id) === pf.identity);
    if (!face || !held.has(face.face_crop_id)) t.strangersUnknown++;
  }
}

/** The service's answers for every face of a session: its matches (with quality, for the review rule) and members missed. */
function tallyReview(
  t: Tally,
  photos: { faces: ViewFace[] }[],
  truth: Map<number, string>,
  placedIds: Set<string>,
  identityOf: Map<number, string>,
  model: ThresholdPolicy,
): void {
  for (const f of photos.flatMap((ph) => ph.faces)) {
    const truthOf = truth.get(f.face_crop_id);
    if (f.person_id === null) {
      if (truthOf && placedIds.has(truthOf)) t.missed++;
      continue;
    }
    t.matches.push({
      correct: identityOf.get(f.person_id) === truthOf,
      similarity: f.similarity!,
      threshold: thresholdForFace(model, f.box[2]),
      quality: { widthPx: f.width_px, sharpness: f.sharpness, yaw: f.yaw, roll: f.roll },
      flagged: f.status === 'review',
    });
  }
}

type App = Awaited<ReturnType<typeof buildApp>>;

interface ViewFace {
  face_crop_id: number;
  box: [number, number, number, number];
  person_id: number | null;
  similarity: number | null;
  status: string;
  width_px: number | null;
  sharpness: number | null;
  yaw: number | null;
  roll: number | null;
}

async function json(app: App, method: 'GET' | 'POST', url: string, payload?: object) {
  const res = await app.inject({ method, url, ...(payload ? { payload } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as Record<string, unknown> & { id: number; attendance: unknown[] };
}

async function uploadPhoto(app: App, sessionId: number, jpeg: Buffer) {
  const fd = new FormData();
  fd.append('image', new Blob([jpeg], { type: 'image/jpeg' }), 'class.jpg');
  const req = new Request('http://localhost/', { method: 'POST', body: fd });
  return app.inject({
    method: 'POST',
    url: `/api/attendance/sessions/${sessionId}/photos/`,
    payload: Buffer.from(await req.arrayBuffer()),
    headers: { 'content-type': req.headers.get('content-type')! },
  });
}

/** An enrolment photo copied under the media root, as a face crop row would name it. */
async function registerFile(mediaRoot: string, file: string) {
  const data = await readFile(file);
  const m = await sharp(data).rotate().metadata();
  const saved = await new MediaStorage(mediaRoot).writeUpload(data, 'jpeg');
  return { imagePath: saved.relPath, width: m.autoOrient.width, height: m.autoOrient.height, sha256: saved.sha256 };
}

/** A 12-MP photo with 30 faces of 60-150 px: upload to answer, three runs. */
async function crowdTiming(
  app: App,
  groupId: number,
  model: string,
  sources: SourceFace[],
  rand: () => number,
): Promise<number[]> {
  const out = [];
  for (let i = 0; i < 3; i++) {
    const faces = Array.from({ length: 30 }, () => sources[Math.floor(rand() * sources.length)]!);
    const scene = await composeScene(faces, { min: 60, max: 150 }, 90, rand);
    const session = await json(app, 'POST', '/api/attendance/sessions/', { group_id: groupId, model_name: model });
    const started = performance.now();
    const res = await uploadPhoto(app, session.id, scene.jpeg);
    if (res.statusCode !== 201) throw new Error(res.body);
    out.push((performance.now() - started) / 1000);
  }
  return out;
}

const pct = (a: number, b: number) => (b === 0 ? '-' : `${a}/${b} (${round((100 * a) / b, 1)}%)`);

function render(
  rows: Row[],
  crowd: { model: string; seconds: number[] } | undefined,
  photos: number,
  args: string,
): string {
  const lines = [
    '# Attendance benchmark',
    '',
    '<!-- Generated by bench/attendance.ts; edits are overwritten on the next run. -->',
    '',
    `Command: \`npm run bench:attendance -- ${args}\``,
    `(${new Date().toISOString().slice(0, 10)}, 2 cores, load ${load1()}; every model and setting on the same scenes, one run).`,
    '',
    `Roster: ${ROSTER} people of the shared dataset, one enrolment photo each; ${GROUPS.length - ROSTER} more people`,
    'are strangers. Each class photo (4000x3000) holds 4-7 members (other photos of them) and 3 strangers,',
    `faces scaled to the width shown; each photo is its own session; ${photos} photos per condition after one`,
    'warm-up. Upload to answer: the POST of the photo over the in-process HTTP app, to its 201 answer.',
    "*size-banded thresholds* is what the service answers (src/domain/face-threshold.ts: each face's threshold by its width, from",
    "the model's bands in the registry); *the model's threshold* is the same session solved again with one threshold for every face.",
    '*flip*: flip-averaging of chips cut from faces smaller than the model input (`upsampled`) or none (`never`).',
    '',
    '| model | flip | thresholds | condition | faces detected | present recall | members falsely present | faces given to the wrong member | strangers left unknown | greedy = optimum | upload to answer, median / max s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { config, policy, condition, t } of rows) {
    lines.push(
      `| ${config.model} | ${config.flip} | ${policy} | ${condition.name} | ${pct(t.detected, t.placed)} | ${pct(t.found, t.present)} | ${t.falsePresent} | ${t.wrongFace} | ${pct(t.strangersUnknown, t.strangers)} | ${t.greedyOptimal}/${t.sessions} sessions | ${round(median(t.seconds))} / ${round(Math.max(...t.seconds))} |`,
    );
  }
  if (crowd)
    lines.push(
      '',
      `A 12-MP photo with 30 faces of 60-150 px, model ${crowd.model} (the attendance default), upload to answer: ${crowd.seconds.map((s) => round(s)).join(', ')} s (median ${round(median(crowd.seconds))} s).`,
    );
  const shipped = rows.filter(
    (r) => r.policy === 'size-banded thresholds' && r.config.model === crowd?.model && r.config.flip === DEFAULT_FLIP,
  );
  if (shipped.length) lines.push(...reviewSection(shipped));
  lines.push('');
  return lines.join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

/** Every automatic match of the shipped configuration's runs, scored under candidate review rules. */
function reviewSection(results: Row[]): string[] {
  const candidates: ReviewPolicy[] = [];
  for (const margin of [0, 0.005, 0.01, 0.02])
    for (const minWidthPx of [0, 36, 42])
      for (const minSharpness of [0, 20, 40]) candidates.push({ margin, minWidthPx, minSharpness });
  const lines = [
    '',
    '## Review',
    '',
    'A match is flagged for review (present, to be confirmed) below a quality floor (face width, sharpness:',
    'variance of the Laplacian of the aligned face) or within a margin above the threshold',
    `(src/domain/face-quality.ts). Every automatic match of the runs above with ${results[0]!.config.model} (the attendance default, size-banded thresholds), scored under candidate rules;`,
    "members' faces left unknown are not matches, so no rule on matches can flag them:",
    results.map(({ condition, t }) => `${t.missed} in "${condition.name}"`).join(', ') + '.',
    `The product's rule: margin ${REVIEW_POLICY.margin}, width below ${REVIEW_POLICY.minWidthPx} px, sharpness below ${REVIEW_POLICY.minSharpness}.`,
    '',
    `| rule (margin / min width px / min sharpness) | ${results.map(({ condition }) => `${condition.name}: wrong matches flagged, right matches flagged`).join(' | ')} |`,
    `|---|${results.map(() => '---|').join('')}`,
  ];
  for (const policy of candidates) {
    const cells = results.map(({ t }) => {
      const wrong = t.matches.filter((m) => !m.correct);
      const right = t.matches.filter((m) => m.correct);
      const flagged = (ms: ReviewCase[]) =>
        ms.filter((m) => needsReview(m.quality, m.similarity, m.threshold, policy)).length;
      return `${flagged(wrong)}/${wrong.length}, ${flagged(right)}/${right.length}`;
    });
    const product =
      policy.margin === REVIEW_POLICY.margin &&
      policy.minWidthPx === REVIEW_POLICY.minWidthPx &&
      policy.minSharpness === REVIEW_POLICY.minSharpness;
    lines.push(
      `| ${policy.margin} / ${policy.minWidthPx} / ${policy.minSharpness}${product ? ' (product)' : ''} | ${cells.join(' | ')} |`,
    );
  }
  const q = (xs: number[], p: number) =>
    round([...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))] ?? NaN, 1);
  for (const { condition, t } of results) {
    const sharp = t.matches.map((m) => m.quality.sharpness ?? NaN);
    const width = t.matches.map((m) => m.quality.widthPx ?? NaN);
    lines.push(
      '',
      `${condition.name}: sharpness of the matched faces p10 / median / p90 ${q(sharp, 0.1)} / ${q(sharp, 0.5)} / ${q(sharp, 0.9)}; width ${q(width, 0.1)} / ${q(width, 0.5)} / ${q(width, 0.9)} px; flagged by the product's rule: ${t.matches.filter((m) => m.flagged).length}/${t.matches.length}.`,
    );
  }
  return lines;
}
