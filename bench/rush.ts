// Rush hour: N class photos (4000x3000, 30 faces each, people of the shared dataset) uploaded at
// once to M sessions of one roster, through real `faceembed serve` and `faceembed worker-node`
// processes on one SQLite file and media root. Modes: synchronous uploads (201) and async
// uploads (202, session-photo jobs) on the server alone (embedded engine), and async with the
// server only enqueueing (BullMQ) and 1 or 2 worker nodes. Per mode: photos accepted, photos/s
// to the last result, time to the last result, p50/p95 per photo (sent to answered, or to its
// job's finished_at), and whether every session ends with the same attendance.
// Run: flock /tmp/faceembed-bench.lock npm run bench:rush -- --data ../shared/datasets/deepface-unit
//        [--photos 40] [--sessions 4] [--faces 30] [--modes sync,async,bullmq-1,bullmq-2] [--out docs/benchmarks.md]
// With --out, the table replaces its own section of that file (and nothing else).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EmbeddingService } from '../src/services/embedding.service.js';
import { createLogger } from '../src/logging/logger.js';
import { composeScene, rng, shuffle, type SourceFace } from './parts/class-scene.js';
import { load1, quantile, round, say } from './parts/common.js';
import { IDENTITIES } from './parts/dataset.js';
import { startServer, type ServerHandle } from './parts/http.js';
import { section, withSection } from './parts/doc-sections.js';
import { RUSH_SECTION, RushClient, type Upload } from './parts/rush-client.js';
import { startWorkerNode } from './parts/worker-node.js';

/** The first nine identities are the roster (first photo enrolled); the last four are strangers. */
const ROSTER = 9;
const MODES = ['sync', 'async', 'bullmq-1', 'bullmq-2'] as const;
type Mode = (typeof MODES)[number];

interface ModeResult {
  mode: Mode;
  sent: number;
  accepted: number;
  refused: number;
  failed: number;
  photosPerSecond: number;
  lastResultS: number;
  p50S: number;
  p95S: number;
  faces: number;
  sameAttendance: boolean;
  attendance: string;
  load: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      photos: { type: 'string', default: '40' },
      sessions: { type: 'string', default: '4' },
      faces: { type: 'string', default: '30' },
      modes: { type: 'string', default: MODES.join(',') },
      'queue-url': { type: 'string', default: 'redis://127.0.0.1:6379/6' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
  });
  if (!values.data) throw new Error('--data ../shared/datasets/deepface-unit is required');
  const photos = Number(values.photos);
  const sessions = Number(values.sessions);
  const modes = values.modes.split(',').map((m) => {
    if (!(MODES as readonly string[]).includes(m)) throw new Error(`--modes: ${m} is none of ${MODES.join(', ')}`);
    return m as Mode;
  });
  const work = await mkdtemp(path.join(tmpdir(), 'faceembed-rush-'));
  try {
    say(`building ${Math.ceil(photos / sessions)} class photos of ${values.faces} faces`);
    const { enrol, scenes } = await buildScenes(
      values.data,
      Math.ceil(photos / sessions),
      Number(values.faces),
      Number(values.seed),
    );
    const results: ModeResult[] = [];
    for (const mode of modes) {
      say(`mode ${mode}`);
      results.push(await runMode(mode, { work, enrol, scenes, photos, sessions, queueUrl: values['queue-url'] }));
    }
    const reference = results[0]?.attendance;
    for (const r of results) r.sameAttendance &&= r.attendance === reference;
    const table = render(results, { photos, sessions, faces: Number(values.faces) });
    process.stdout.write(table);
    if (values.out) {
      const doc = await readFile(values.out, 'utf8').catch(() => '');
      await writeFile(values.out, withSection(doc, RUSH_SECTION, section(RUSH_SECTION, table)));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Enrolment photos of the roster, and class photos mixing other photos of members and strangers. */
async function buildScenes(data: string, count: number, faces: number, seed: number) {
  const embedder = new EmbeddingService({ logger: createLogger('silent'), workers: 2 });
  const sources = new Map<number, SourceFace>();
  try {
    for (const [g, members] of IDENTITIES.entries()) {
      for (const n of members) {
        const file = path.join(data, `img${n}.jpg`);
        const found = await embedder.detectFaces(file);
        const best = [...found].sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
        if (best) sources.set(n, { file, identity: `g${g}`, box: best.box });
      }
    }
  } finally {
    await embedder.close();
  }
  const enrol = IDENTITIES.slice(0, ROSTER).map((m) => sources.get(m[0]!)!.file);
  const inClass = IDENTITIES.flatMap((m, g) => m.slice(g < ROSTER ? 1 : 0)).filter((n) => sources.has(n));
  const rand = rng(seed);
  const scenes: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const picked = Array.from({ length: faces }, (_, k) => sources.get(shuffle(inClass, rand)[k % inClass.length]!)!);
    scenes.push((await composeScene(picked, { min: 60, max: 150 }, 90, rand)).jpeg);
  }
  return { enrol, scenes };
}

interface ModeInput {
  work: string;
  enrol: string[];
  scenes: Buffer[];
  photos: number;
  sessions: number;
  queueUrl: string;
}

async function runMode(mode: Mode, input: ModeInput): Promise<ModeResult> {
  const dir = path.join(input.work, mode);
  const mediaRoot = path.join(dir, 'media');
  await mkdir(mediaRoot, { recursive: true });
  const bullmq = mode.startsWith('bullmq');
  const env: Record<string, string> = {
    FACEEMBED_DATABASE_URL: `sqlite:${path.join(dir, 'rush.db')}`,
    ...(bullmq && {
      FACEEMBED_QUEUE_URL: input.queueUrl,
      FACEEMBED_QUEUE_PREFIX: `fe-rush-${process.pid}-${mode}`,
      FACEEMBED_SERVER_RUNS_JOBS: 'false',
    }),
  };
  const server = await startServer({ mediaRoot, workDir: dir, env });
  const nodes: ServerHandle[] = [];
  try {
    const nodeCount = bullmq ? Number(mode.split('-')[1]) : 0;
    for (let i = 0; i < nodeCount; i++) nodes.push(await startWorkerNode({ mediaRoot, workDir: dir, env }));
    const client = new RushClient(server.baseUrl);
    const groupId = await client.roster(input.enrol);
    const sessionIds: number[] = [];
    for (let s = 0; s < input.sessions; s++) sessionIds.push(await client.session(groupId));
    // Warm-up on sessions of its own: every pool that will work has run a photo before the clock.
    const warm = await client.session(groupId);
    const warmUps = Array.from(
      { length: 2 * Math.max(1, nodeCount) },
      (_, i) => input.scenes[i % input.scenes.length]!,
    );
    await Promise.all(
      warmUps.map((scene) => client.upload(warm, scene, mode !== 'sync').then((u) => client.settle(u))),
    );
    const plan = Array.from({ length: input.photos }, (_, i) => ({
      sessionId: sessionIds[i % input.sessions]!,
      scene: input.scenes[Math.floor(i / input.sessions) % input.scenes.length]!,
    }));
    const t0 = Date.now();
    const load = load1();
    const uploads: Upload[] = await Promise.all(plan.map((p) => client.upload(p.sessionId, p.scene, mode !== 'sync')));
    const settled = await Promise.all(uploads.map((u) => client.settle(u)));
    const done = settled.filter((s) => s.ok);
    const last = Math.max(...done.map((s) => s.endedAt)) - t0;
    const perPhoto = done.map((s) => (s.endedAt - s.sentAt) / 1000);
    const views = await Promise.all(sessionIds.map((id) => client.attendance(id)));
    return {
      mode,
      sent: plan.length,
      accepted: uploads.filter((u) => u.accepted).length,
      refused: uploads.filter((u) => !u.accepted).length,
      failed: settled.filter((s) => !s.ok).length - uploads.filter((u) => !u.accepted).length,
      photosPerSecond: round(done.length / (last / 1000)),
      lastResultS: round(last / 1000, 1),
      p50S: round(quantile(perPhoto, 0.5), 1),
      p95S: round(quantile(perPhoto, 0.95), 1),
      faces: views.reduce((n, v) => n + v.faces, 0),
      sameAttendance: views.every((v) => v.attendance === views[0]!.attendance),
      attendance: views[0]!.attendance,
      load,
    };
  } finally {
    for (const n of nodes) await n.stop();
    await server.stop();
  }
}

function render(results: readonly ModeResult[], p: { photos: number; sessions: number; faces: number }): string {
  const label: Record<Mode, string> = {
    sync: 'server alone, synchronous (201)',
    async: 'server alone, async (embedded engine)',
    'bullmq-1': 'BullMQ, 1 worker node',
    'bullmq-2': 'BullMQ, 2 worker nodes (per node: half)',
  };
  const lines = [
    '## Rush hour: class photos at once (bench:rush)',
    '',
    `Made by \`npm run bench:rush -- --data ../shared/datasets/deepface-unit --photos ${p.photos} --sessions ${p.sessions} ` +
      `--faces ${p.faces}\` on ${new Date().toISOString().slice(0, 10)}: ${p.photos} class photos (4000x3000 JPEG, ` +
      `${p.faces} faces of 60-150 px, people of the shared dataset) sent at once to ${p.sessions} sessions of one 9-member ` +
      'roster, through `faceembed serve` (and `faceembed worker-node`) processes on one SQLite file, all on this ' +
      '2-core machine; every pool 2 workers. photos/s = photos done / time from the first request to the last ' +
      "result; per photo = request sent to its 201, or to its job's finished_at. The 2 worker nodes share the " +
      'same 2 cores, so their total cannot pass what one machine gives: the per-node column (total / nodes) is ' +
      'the figure that counts.',
    '',
    '| mode | accepted | refused | failed | photos/s | per node photos/s | last result s | p50 s | p95 s | faces stored | sessions alike | load1 |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const nodes = r.mode === 'bullmq-2' ? 2 : 1;
    lines.push(
      `| ${label[r.mode]} | ${r.accepted}/${r.sent} | ${r.refused} | ${r.failed} | ${r.photosPerSecond} | ` +
        `${round(r.photosPerSecond / nodes)} | ${r.lastResultS} | ${r.p50S} | ${r.p95S} | ${r.faces} | ` +
        `${r.sameAttendance ? 'yes' : 'NO'} | ${r.load} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
