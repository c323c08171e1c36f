// The performance benchmark suite: every figure of docs/benchmarks.md from one run.
//   npm run bench -- --data ../shared/datasets/deepface-unit   (full run: about 20 min on 2 cores under load;
//                                                                each run records its time in docs/benchmarks.md)
//   node dist/bench/run.js --quick --data DIR                     (smoke run: small counts, 5-9 min under load)
//   faceembed bench [--quick] [--out FILE] [--json FILE] [--data DIR]
//   node dist/bench/run.js --from-json docs/benchmarks.json --out docs/benchmarks.md   (re-render only)
//   npm run bench -- --tight-crops --data DIR   (only the tight-crop section: fast path on and off, 4-5 min)
// A full run writes docs/benchmarks.md and docs/benchmarks.json unless --out / --json say
// otherwise; a quick run writes only what --out / --json name. Progress goes to stderr.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseFlags } from './parts/flags.js';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { REPO, cycle, load1, round, say, settle } from './parts/common.js';
import { cutCrops, listPhotos, SMALL_CROP_SIDE } from './parts/dataset.js';
import { faceapiPipelines } from './parts/faceapi.js';
import { httpBatch, httpSingle, registerCrops, startServer, type ServerHandle } from './parts/http.js';
import { libraryBatch, librarySingle, perRequest, splitName, type Split } from './parts/library.js';
import { JOBS_SECTION, runJobsBench } from './jobs.js';
import { carrySections } from './parts/doc-sections.js';
import { RUSH_SECTION } from './parts/rush-client.js';
import { SEARCH_SECTION } from './parts/search-table.js';
import { coldStart, memoryRun, profileRun } from './parts/process-runs.js';
import { renderMarkdown } from './parts/report.js';
import {
  LARGE_SET,
  SHIPPED_PER_TASK,
  SMALL_SET,
  runTightCrops,
  tightCropsSection,
  type CropSet,
} from './parts/tight-crops.js';
import { runHttpCrops } from './parts/tight-crops-http.js';
import { evaluateTargets, type BenchResult, type Meta, type ModelResult } from './parts/results.js';

export interface BenchOptions {
  quick?: boolean;
  data?: string;
  out?: string;
  json?: string;
  models?: string[];
  /** How the run was started, for the report. */
  command?: string;
  /** Only re-render the Markdown (to --out, else stdout; targets re-evaluated, to --json if given) from an earlier run's JSON. */
  fromJson?: string;
  /** Longest wait (ms) before each measurement for other processes to quieten; default 8000 (0 with --quick). */
  settleMs?: number;
  /** Only the jobs section (bench/jobs.ts): crops per job. */
  jobs?: { crops: number };
  /** Only the tight-crop section (parts/tight-crops.ts): printed, and written to --out when given. */
  tightCropsOnly?: boolean;
}

/** Counts of a full run and of a --quick smoke run. */
function plan(quick: boolean) {
  return quick
    ? {
        photos: 16,
        crops: 32,
        repeats: 1,
        single: 20,
        perRequest: 4,
        faceapiPhotos: 8,
        memory: 600,
        recycle: 300,
        recycleJobs: 50,
        cold: 1,
        profile: 16,
        extraSplits: false,
        settleMs: 0,
      }
    : {
        photos: 64,
        crops: 138,
        repeats: 3,
        single: 100,
        perRequest: 20,
        faceapiPhotos: 64,
        memory: 10_000,
        recycle: 1500,
        recycleJobs: 100,
        cold: 3,
        profile: 69,
        extraSplits: true,
        settleMs: 8000,
      };
}

const DEFAULT_DATA = path.resolve(REPO, '../shared/datasets/deepface-unit');

export async function runBench(opts: BenchOptions = {}): Promise<BenchResult> {
  const quick = opts.quick ?? false;
  const p = plan(quick);
  const data = path.resolve(opts.data ?? DEFAULT_DATA);
  const models = opts.models ?? ['facenet', 'arcface'];
  const config = loadConfig();
  const modelsDir = config.modelsDir;
  const cores = os.availableParallelism();
  const defaultSplit: Split = { workers: config.pool.workers, threads: config.pool.threadsPerWorker };
  const splits: Split[] = [defaultSplit];
  for (const s of [
    { workers: cores, threads: 1 },
    { workers: 1, threads: cores },
    ...(p.extraSplits ? [{ workers: cores, threads: 2 }] : []),
  ]) {
    if (!splits.some((x) => splitName(x) === splitName(s))) splits.push(s);
  }
  const started = performance.now();
  const loadStart = load1();
  // A full run lets each measurement wait a little for other users' work to pass.
  settle.limitMs = opts.settleMs ?? p.settleMs;
  const work = await mkdtemp(path.join(os.tmpdir(), 'faceembed-bench-'));
  const media = path.join(work, 'media');
  let server: ServerHandle | undefined;
  try {
    // ---- images -------------------------------------------------------------------------
    if (!existsSync(data))
      throw new Error(`No photo folder at ${data}: pass --data DIR (e.g. ../shared/datasets/deepface-unit)`);
    const allPhotos = await listPhotos(data);
    if (allPhotos.length === 0) throw new Error(`No photos in ${data} (pass --data DIR)`);
    const photos = quick ? allPhotos.slice(0, p.photos) : allPhotos;
    say(`cutting tight crops from ${photos.length} photos`);
    const dataset = await cutCrops(photos, path.join(media, 'crops'), modelsDir, path.join(media, 'crops-small'));
    await mkdir(path.join(media, 'photos'), { recursive: true });
    for (const photo of photos) await copyFile(photo, path.join(media, 'photos', path.basename(photo)));
    const crops = dataset.crops;
    const rel = (f: string) => path.relative(media, f);
    const photoCount = quick ? p.photos : photos.length;

    // ---- the HTTP server (both models preloaded, as `faceembed serve` does) -------------------
    say('starting faceembed serve');
    server = await startServer({ mediaRoot: media, workDir: work, modelsDir });
    const photoIds = await registerCrops(
      server,
      photos.map((f) => rel(path.join(media, 'photos', path.basename(f)))),
    );
    const cropIds = await registerCrops(server, crops.map(rel), Math.ceil(p.crops / crops.length));

    const results: ModelResult[] = [];
    for (const model of models) {
      const lib = { model, modelsDir };
      say(`${model}: library batch, photos (${splitName(defaultSplit)})`);
      const libPhotos = await libraryBatch(lib, defaultSplit, photos, photoCount, p.repeats);
      const libCrops = [];
      // The oversubscribed split only for the first model: it tells the same story for both.
      const modelSplits = quick
        ? [defaultSplit]
        : splits.filter((s) => model === models[0] || s.workers * s.threads <= cores);
      for (const split of modelSplits) {
        say(`${model}: library batch, crops (${splitName(split)})`);
        libCrops.push(await libraryBatch(lib, split, crops, p.crops, p.repeats));
      }
      say(`${model}: library single-image latency`);
      const libSingle = await librarySingle(lib, defaultSplit, crops, p.single);
      const splitSingles = [libSingle];
      for (const split of modelSplits.slice(1))
        splitSingles.push(await librarySingle(lib, split, crops, Math.ceil(p.single / 2)));
      say(`${model}: HTTP batch, photos and crops`);
      const httpPhotos = await httpBatch(server, cycle(photoIds, photoCount), model, p.repeats, defaultSplit.workers);
      const httpCrops = await httpBatch(server, cropIds.slice(0, p.crops), model, p.repeats, defaultSplit.workers);
      say(`${model}: HTTP single-image latency`);
      const httpLat = await httpSingle(server, cropIds.slice(0, crops.length), model, p.single);
      say(`${model}: per-request isolation on ${p.perRequest} crops`);
      const subset = crops.slice(0, p.perRequest);
      const pr = await perRequest(lib, subset);
      const pool = await libraryBatch(lib, defaultSplit, subset, subset.length * 4, p.repeats);
      results.push({
        model,
        library: { photos: libPhotos, crops: libCrops, single: splitSingles },
        http: { photos: httpPhotos, crops: httpCrops, errors: [...httpPhotos.errors, ...httpCrops.errors] },
        latency: { library: libSingle, http: httpLat },
        perRequest: { ...pr, pool, ratio: round(pool.facesPerSecond / pr.throughput.facesPerSecond, 1) },
      });
    }
    await server.stop();
    server = undefined;

    say('tight crops: the fast path on and off');
    const tightCrops = await runTightCrops({
      models,
      modelsDir,
      split: defaultSplit,
      sets: cropSets(dataset),
      count: p.crops,
      repeats: p.repeats,
      single: p.single,
      say,
    });

    say('profile: stages and networks (a fresh process, 1 ORT thread)');
    const profile = await profileRun({
      modelsDir,
      models,
      crops,
      photos,
      count: p.profile,
      networkRuns: quick ? 10 : 30,
      twoThreads: !quick,
    });

    say('face-api (tfjs-wasm): Tiny and SSD pipelines');
    const faceapi = await faceapiPipelines(photos.slice(0, p.faceapiPhotos), ['tiny', 'ssd']).catch((err: unknown) => {
      say(`face-api part skipped: ${(err as Error).message}`);
      return undefined;
    });

    say(
      `memory: ${p.memory} embeddings in a fresh process (workers recycled every ${config.pool.maxJobsPerWorker} jobs, as configured)`,
    );
    const memory = {
      model: 'facenet',
      maxJobsPerWorker: config.pool.maxJobsPerWorker,
      ...(await memoryRun({
        model: 'facenet',
        images: crops,
        count: p.memory,
        warmup: 200,
        sampleMs: quick ? 500 : 2000,
        modelsDir,
      })),
    };
    const capFlags = ['--max-semi-space-size=2'];
    say(`memory: ${p.memory / 2} embeddings with ${capFlags.join(' ')}`);
    const memoryCapped = {
      model: 'facenet',
      flags: capFlags,
      ...(await memoryRun(
        {
          model: 'facenet',
          images: crops,
          count: p.memory / 2,
          warmup: 200,
          sampleMs: quick ? 500 : 2000,
          modelsDir,
        },
        capFlags,
      )),
    };
    say(`recycling: ${p.recycle} embeddings, workers recycled every ${p.recycleJobs} jobs`);
    const recycling = {
      model: 'facenet',
      maxJobsPerWorker: p.recycleJobs,
      ...(await memoryRun({
        model: 'facenet',
        images: crops,
        count: p.recycle,
        warmup: 50,
        maxJobsPerWorker: p.recycleJobs,
        sampleMs: 1000,
        modelsDir,
      })),
    };

    say('cold start: faceembed embed in a fresh process');
    const cold = await coldStart('facenet', crops[0]!, p.cold);

    const meta: Meta = {
      date: new Date().toISOString(),
      command: opts.command ?? commandLine(),
      node: process.version,
      cores,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      platform: `${os.platform()} ${os.release()}`,
      quick,
      data,
      photos: photos.length,
      crops: crops.length,
      cropSide: dataset.cropSide,
      photosWithoutFace: dataset.photosWithoutFace.length,
      defaultSplit: splitName(defaultSplit),
      loadStart,
      loadEnd: load1(),
      seconds: round((performance.now() - started) / 1000, 0),
    };
    const partial = {
      meta,
      models: results,
      ...(faceapi ? { faceapi } : {}),
      memory,
      memoryCapped,
      recycling,
      coldStart: cold,
      profile,
      tightCrops,
    };
    const result: BenchResult = { ...partial, targets: evaluateTargets(partial) };

    const out = opts.out ? path.resolve(opts.out) : quick ? undefined : path.join(REPO, 'docs/benchmarks.md');
    const json = opts.json ? path.resolve(opts.json) : quick ? undefined : path.join(REPO, 'docs/benchmarks.json');
    const markdown = renderMarkdown(result);
    if (out) {
      // The sections other benchmarks write into this document (bench/jobs.ts, bench/rush.ts, the
      // search grid's summary) are theirs: a full run keeps them.
      const previous = await readFile(out, 'utf8').catch(() => '');
      await writeFile(out, carrySections(previous, markdown, [JOBS_SECTION, RUSH_SECTION, SEARCH_SECTION]));
    }
    if (json) await writeFile(json, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(markdown);
    say(`done in ${meta.seconds} s${out ? `; wrote ${out}` : ''}${json ? ` and ${json}` : ''}`);
    return result;
  } finally {
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** The two crop sets of the tight-crop section. */
function cropSets(dataset: { crops: string[]; cropSide: number; smallCrops: string[] }): CropSet[] {
  return [
    { label: SMALL_SET, files: dataset.smallCrops, side: SMALL_CROP_SIDE },
    { label: LARGE_SET, files: dataset.crops, side: dataset.cropSide },
  ];
}

/** Only the tight-crop section, on crops cut from the photos of `data`: no server, no other part. */
export async function runTightCropsOnly(opts: BenchOptions): Promise<string> {
  const p = plan(opts.quick ?? false);
  settle.limitMs = opts.settleMs ?? p.settleMs;
  const data = path.resolve(opts.data ?? DEFAULT_DATA);
  const config = loadConfig();
  const work = await mkdtemp(path.join(os.tmpdir(), 'faceembed-bench-tight-'));
  try {
    const photos = await listPhotos(data);
    if (photos.length === 0) throw new Error(`No photos in ${data} (pass --data DIR)`);
    say(`cutting tight crops from ${photos.length} photos`);
    const dataset = await cutCrops(photos, path.join(work, 'crops'), config.modelsDir, path.join(work, 'crops-small'));
    const models = opts.models ?? ['facenet', 'arcface'];
    const split = { workers: config.pool.workers, threads: config.pool.threadsPerWorker };
    const sets = cropSets(dataset);
    const result = await runTightCrops({
      models,
      modelsDir: config.modelsDir,
      split,
      sets,
      count: p.crops,
      repeats: p.repeats,
      single: p.single,
      say,
    });
    result.http = await runHttpCrops({
      models,
      modelsDir: config.modelsDir,
      split,
      mediaRoot: work,
      workDir: work,
      set: sets[0]!,
      count: p.crops,
      repeats: p.repeats,
      perTask: [1, SHIPPED_PER_TASK],
      say,
    });
    const text = [
      `Made by \`${opts.command ?? commandLine()}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ` +
        `${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown'}), load ${load1()}.`,
      '',
      tightCropsSection(result),
    ].join('\n');
    if (opts.out) await writeFile(path.resolve(opts.out), `${text}\n`);
    if (opts.json) await writeFile(path.resolve(opts.json), `${JSON.stringify(result, null, 2)}\n`);
    return text;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function commandLine(): string {
  const args = process.argv.slice(2).join(' ');
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${args ? ` -- ${args}` : ''}`;
  return `node ${path.relative(process.cwd(), process.argv[1] ?? 'dist/bench/run.js')}${args ? ` ${args}` : ''}`;
}

/** Writes the Markdown report again from a run's JSON (targets re-evaluated): no measuring. */
export async function renderFromJson(jsonFile: string, out?: string, json?: string): Promise<void> {
  const run = JSON.parse(await readFile(jsonFile, 'utf8')) as BenchResult;
  const result: BenchResult = { ...run, targets: evaluateTargets(run) };
  const markdown = renderMarkdown(result);
  if (out) await writeFile(path.resolve(out), markdown);
  else process.stdout.write(markdown);
  if (json) await writeFile(path.resolve(json), `${JSON.stringify(result, null, 2)}\n`);
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseFlags(
    'faceembed bench (or npm run bench --)',
    {
      quick: { type: 'boolean', default: false },
      data: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'string' },
      models: { type: 'string' },
      'from-json': { type: 'string' },
      jobs: { type: 'boolean', default: false },
      'tight-crops': { type: 'boolean', default: false },
      'jobs-crops': { type: 'string' },
      'settle-ms': { type: 'string' },
    },
    argv,
  );
  return {
    ...(values.jobs ? { jobs: { crops: Number(values['jobs-crops'] ?? 5000) } } : {}),
    ...(values['tight-crops'] ? { tightCropsOnly: true } : {}),
    quick: values.quick,
    ...(values['settle-ms'] === undefined ? {} : { settleMs: Number(values['settle-ms']) }),
    ...(values.data ? { data: values.data } : {}),
    ...(values.out ? { out: values.out } : {}),
    ...(values.json ? { json: values.json } : {}),
    ...(values.models
      ? {
          models: values.models
            .split(',')
            .map((m) => m.trim())
            .filter(Boolean),
        }
      : {}),
    ...(values['from-json'] ? { fromJson: values['from-json'] } : {}),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts = parseBenchArgs(process.argv.slice(2));
  if (opts.tightCropsOnly) {
    runTightCropsOnly(opts).then(
      (text) => process.stdout.write(`${text}\n`),
      (err: unknown) => {
        console.error(err);
        process.exitCode = 1;
      },
    );
  } else if (opts.jobs) {
    runJobsBench({ ...opts.jobs, out: opts.out }).then(
      (text) => process.stdout.write(`${text}\n`),
      (err: unknown) => {
        console.error(err);
        process.exitCode = 1;
      },
    );
  } else
    (opts.fromJson ? renderFromJson(opts.fromJson, opts.out, opts.json) : runBench(opts)).catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
