// Unknown-face clusters: how pure and complete they are per model and algorithm, and what they
// cost. Faces: every labelled photo of the shared dataset pasted into synthetic class photos
// (as bench:attendance does) at two face sizes, each embedded as a session stores it (the
// worker's photo scan). Algorithms: the product's placement (src/domain/face-clusters.ts, one
// face at a time in random orders, each link) against agglomerative clustering of the whole
// set and DBSCAN, all at the model's own threshold. Cost: the product's pass after one photo of
// 10 unknown faces in a group of 30 such sessions (SQLite), and the enrol call on a cluster of
// 10 faces over the in-process HTTP app. Prints a markdown section (docs/attendance.md).
// Run: npm run bench:clusters -- --data ../shared/datasets/deepface-unit [--orders 5]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../src/config/config.js';
import { placeFaces, type Linkage } from '../src/domain/face-clusters.js';
import { buildApp } from '../src/http/app.js';
import { marginRegion } from '../src/image/crop.js';
import { createLogger } from '../src/logging/logger.js';
import { createServices } from '../src/main.js';
import { AttendanceStore } from '../src/repositories/attendance-store.js';
import { openDatabase } from '../src/repositories/database.js';
import { MediaStorage } from '../src/repositories/media-storage.js';
import { migrate } from '../src/repositories/migrate.js';
import { clusterPolicy } from '../src/services/cluster.service.js';
import { EmbeddingService } from '../src/services/embedding.service.js';
import { composeScene, iou, rng, shuffle, type SourceFace } from './parts/class-scene.js';
import { agglomerate, dbscan, pairScore, type Labelled, type PairScore } from './parts/cluster-metrics.js';
import { load1, mean, median, REPO, round } from './parts/common.js';
import { writeSection } from './parts/doc-sections.js';
import { IDENTITIES } from './parts/dataset.js';

const CONDITIONS = [
  { name: 'faces 60-150 px, q90', widths: { min: 60, max: 150 }, quality: 90 },
  { name: 'faces 30-50 px, q70', widths: { min: 30, max: 50 }, quality: 70 },
];
const SCENE_FACES = 32;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      orders: { type: 'string', default: '5' },
      'costs-only': { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
    },
  });
  if (!values.data) throw new Error('--data ../shared/datasets/deepface-unit is required');
  const data = values.data;
  const orders = Math.max(1, Number(values.orders));
  const work = await mkdtemp(path.join(tmpdir(), 'faceembed-clusters-'));
  const config = loadConfig({
    FACEEMBED_MEDIA_ROOT: path.join(work, 'media'),
    FACEEMBED_DATABASE_URL: `sqlite:${path.join(work, 'bench.db')}`,
    FACEEMBED_LOG_LEVEL: 'silent',
  });
  const logger = createLogger('silent');
  const embedder = new EmbeddingService({ config, logger });
  const rand = rng(Number(values.seed));
  const lines: string[] = [];
  try {
    await embedder.ready();
    const sources: SourceFace[] = [];
    for (const [g, members] of IDENTITIES.entries())
      for (const n of members) {
        const file = path.join(data, `img${n}.jpg`);
        const best = (await embedder.detectFaces(file)).sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
        if (best) sources.push({ file, identity: `g${g}`, box: best.box });
      }
    const rows: string[] = [];
    const facesOf = new Map<string, Labelled[]>();
    for (const model of embedder.models()) {
      for (const condition of CONDITIONS) {
        const faces = await sessionFaces(embedder, model.name, sources, condition, work, rand);
        facesOf.set(`${model.name}|${condition.name}`, faces);
        if (values['costs-only']) continue;
        const t = clusterPolicy(model).threshold;
        const algorithms: { name: string; run: () => PairScore }[] = [
          ...(['average', 'complete', 'single'] as Linkage[]).map((linkage) => ({
            name: `placement, ${linkage} link${linkage === clusterPolicy(model).linkage ? ' (product)' : ''}`,
            run: () => overOrders(faces, linkage, t, orders, rand),
          })),
          { name: 'agglomerative, average', run: () => pairScore(faces, agglomerate(faces, 'average', t)) },
          { name: 'agglomerative, complete', run: () => pairScore(faces, agglomerate(faces, 'complete', t)) },
          { name: 'DBSCAN, min 2', run: () => pairScore(faces, dbscan(faces, t, 2)) },
          { name: 'DBSCAN, min 3', run: () => pairScore(faces, dbscan(faces, t, 3)) },
        ];
        for (const a of algorithms) {
          const s = a.run();
          rows.push(
            `| ${model.name} (${t}) | ${condition.name} | ${faces.length} | ${a.name} | ${round(s.precision, 3)} | ${round(s.recall, 3)} | ${round(s.clusters, 1)} | ${round(s.singletons, 1)} |`,
          );
        }
      }
    }
    process.stderr.write(rows.join('\n') + '\n');
    const cost = await costs(
      config,
      embedder,
      (model) => facesOf.get(`${model}|${CONDITIONS[0]!.name}`)!,
      sources,
      rand,
    );
    lines.push(
      '## Unknown-face clusters',
      '',
      `Command: \`npm run bench:clusters -- --data ../shared/datasets/deepface-unit --orders ${orders}\``,
      `(${new Date().toISOString().slice(0, 10)}, 2 cores, load ${load1()}).`,
      '',
      `Faces: the ${sources.length} labelled photos of the shared dataset (${IDENTITIES.length} people) pasted into synthetic`,
      `class photos (${SCENE_FACES} faces each) at each face size, every face found embedded as a session stores it.`,
      'Pairwise precision (purity): of the pairs of faces put in one cluster, the share that are one person;',
      "recall (completeness): of the pairs of one person's faces, the share put in one cluster. Every",
      "algorithm at the model's threshold. Placement (the product) puts one face at a time into the",
      `cluster it links to best, or a new one; its rows are the mean over ${orders} random arrival orders.`,
      '',
      '| model (threshold) | faces | found | algorithm | pairwise precision | pairwise recall | clusters | clusters of one |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `Cost on ${cost.model}, SQLite: the clustering pass after one photo of 10 unknown faces, in a group`,
      `growing to 30 sessions x 10 unknown faces: median ${round(median(cost.perPhoto))} ms, max ${round(Math.max(...cost.perPhoto))} ms over the 30 photos`,
      `(the last 10: median ${round(median(cost.perPhoto.slice(-10)))} ms). The listing of those clusters: ${round(cost.listMs)} ms.`,
      `Enrol of a cluster of ${cost.clusterSize} faces (POST …/enrol/, a new person; ${cost.enrolled} faces enrolled with every model's`,
      `embedding, ${cost.marked} open sessions marked): ${cost.enrolMs.map((v) => round(v)).join(', ')} ms.`,
      '',
    );
    await writeSection(path.join(REPO, 'docs/attendance.md'), 'clusters', lines.join('\n'));
    process.stdout.write(lines.join('\n'));
  } finally {
    await embedder.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** The labelled faces as a session stores them: class photos of every source face, scanned. */
async function sessionFaces(
  embedder: EmbeddingService,
  modelName: string,
  sources: readonly SourceFace[],
  condition: (typeof CONDITIONS)[number],
  work: string,
  rand: () => number,
): Promise<Labelled[]> {
  const out: Labelled[] = [];
  const order = shuffle(sources, rand);
  for (let i = 0; i < order.length; i += SCENE_FACES) {
    const scene = await composeScene(order.slice(i, i + SCENE_FACES), condition.widths, condition.quality, rand);
    const file = path.join(work, 'scene.jpg');
    await writeFile(file, scene.jpeg);
    const scan = await embedder.embedFaces(file, { modelName });
    for (const f of scan.faces) {
      const best = scene.faces.map((pf) => ({ pf, o: iou(pf.box, f.box) })).sort((a, b) => b.o - a.o)[0];
      if (best && best.o > 0.3) out.push({ identity: best.pf.identity, embedding: f.embedding });
    }
  }
  return out;
}

/** The product's placement in several random arrival orders: the mean of each score. */
function overOrders(
  faces: readonly Labelled[],
  linkage: Linkage,
  threshold: number,
  orders: number,
  rand: () => number,
) {
  const scores: PairScore[] = [];
  for (let o = 0; o < orders; o++) {
    const order = shuffle(
      faces.map((_, i) => i),
      rand,
    );
    let next = 0;
    const assigned = placeFaces(
      order.map((i) => ({ faceCropId: i, embedding: faces[i]!.embedding })),
      [],
      { linkage, threshold },
      () => next++,
    );
    const byFace = new Array<number>(faces.length);
    order.forEach((i, k) => (byFace[i] = assigned[k]!));
    scores.push(pairScore(faces, byFace));
  }
  return {
    precision: mean(scores.map((s) => s.precision)),
    recall: mean(scores.map((s) => s.recall)),
    clusters: mean(scores.map((s) => s.clusters)),
    singletons: mean(scores.map((s) => s.singletons)),
  };
}

/**
 * A group of 30 sessions, each one photo of 10 unknown faces (embeddings of the bench's faces),
 * timed through the product's pass after each photo; then 10 sessions showing one person's face
 * (real crop files), and that cluster enrolled over HTTP.
 */
async function costs(
  config: ReturnType<typeof loadConfig>,
  embedder: EmbeddingService,
  facesOf: (model: string) => readonly Labelled[],
  sources: readonly SourceFace[],
  rand: () => number,
) {
  const db = openDatabase(config.databaseUrl);
  await migrate(db);
  const services = createServices({ db, embedder, config });
  const app = await buildApp({ config, db, embedder, logger: createLogger('silent'), services: () => services });
  const store = new AttendanceStore(db);
  const storage = new MediaStorage(config.mediaRoot);
  const model = services.clusters.groupModel();
  // The filler faces are of everyone but the person enrolled at the end.
  const faces = facesOf(model.name).filter((f) => f.identity !== 'g0');
  try {
    const group = await store.groups.create({ name: 'class' });
    const session = async () =>
      store.sessions.create({ groupId: group.id, modelName: model.name, name: null, startsAt: null });
    const photo = async (sessionId: number) =>
      store.sessions.addPhoto({ sessionId, imagePath: 'none.jpg', width: 4000, height: 3000 });
    const perPhoto: number[] = [];
    for (let s = 0; s < 30; s++) {
      const p = await photo((await session()).id);
      for (let k = 0; k < 10; k++) {
        const f = faces[Math.floor(rand() * faces.length)]!;
        const crop = await store.crops.create({
          imagePath: 'none.jpg',
          width: 80,
          height: 80,
          sha256: '',
          sourcePhotoId: p.id,
        });
        await store.embeddings.upsert({
          faceCropId: crop.id,
          modelName: model.name,
          modelVersion: model.version,
          embedding: f.embedding,
        });
      }
      const started = performance.now();
      await services.clusters.update(group.id);
      perPhoto.push(performance.now() - started);
    }
    let started = performance.now();
    await services.clusters.list(group.id);
    const listMs = performance.now() - started;

    // One person seen in 10 open sessions: their photos (repeated to reach 10), cut as a session stores them.
    const person = sources.filter((f) => f.identity === 'g0');
    const cropIds: number[] = [];
    for (let s = 0; s < 10; s++) {
      const p = await photo((await session()).id);
      const saved = await storage.writeUpload(await sessionCrop(person[s % person.length]!), 'jpeg');
      const crop = await store.crops.create({
        imagePath: saved.relPath,
        width: 0,
        height: 0,
        sha256: saved.sha256,
        sourcePhotoId: p.id,
      });
      cropIds.push(crop.id);
    }
    await services.faceCrops.generateBatch(cropIds, { modelName: model.name, force: false });
    const clusters = await services.clusters.list(group.id);
    const target = clusters.sort((a, b) => overlap(b.faceCropIds, cropIds) - overlap(a.faceCropIds, cropIds))[0]!;
    started = performance.now();
    const res = await app.inject({
      method: 'POST',
      url: `/api/attendance/groups/${group.id}/unknown-clusters/${target.id}/enrol/`,
      payload: { name: 'newcomer' },
    });
    const enrolMs = [performance.now() - started];
    if (res.statusCode !== 200) throw new Error(`enrol: ${res.statusCode} ${res.body}`);
    const body = res.json() as { enrolled_faces: number; sessions_marked: number };
    return {
      model: model.name,
      perPhoto,
      listMs,
      enrolMs,
      clusterSize: target.faceCropIds.length,
      enrolled: body.enrolled_faces,
      marked: body.sessions_marked,
    };
  } finally {
    await app.close();
    await db.destroy();
  }
}

/** The face as a session stores it: its box grown by the crop margin, at most 160 px (bench:accuracy's small crops). */
async function sessionCrop(face: SourceFace): Promise<Buffer> {
  const m = await sharp(face.file).rotate().metadata();
  const [left, top, width, height] = marginRegion(face.box, m.autoOrient.width, m.autoOrient.height);
  return sharp(face.file)
    .rotate()
    .extract({ left, top, width, height })
    .resize(160, 160, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 90 })
    .toBuffer();
}

const overlap = (a: readonly number[], b: readonly number[]) => a.filter((x) => b.includes(x)).length;

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
