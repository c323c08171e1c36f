// Every photo of a set embedded once per model through the product's pipeline (EmbeddingService,
// detect 'auto', the worker pool's batch task), kept on disk outside the repository. The cache
// key is the model's weights version plus a fingerprint of the compiled code that turns a photo
// into a vector (detection, face choice, alignment, input, worker) and the embed options, so a
// changed pipeline re-embeds and an unchanged one does not.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FlipMode } from '../../src/inference/protocol.js';
import { createLogger } from '../../src/logging/logger.js';
import { modelVersions } from '../../src/models/prepare.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import { REPO, say } from './common.js';

export const CACHE_DIR = process.env.FACEEMBED_LFW_CACHE ?? path.join(os.tmpdir(), 'faceembed-lfw-cache');

/** What detection said about the face a photo's vector came from. */
export interface FaceRecord {
  detected: boolean;
  score?: number;
  /** [x, y, width, height] in the photo. */
  box?: [number, number, number, number];
  landmarks?: [number, number][];
}

export interface EmbeddedSet {
  model: string;
  version: string;
  dims: number;
  /** Row i is photo i's L2-normalised vector; zeros where embedding failed. */
  vectors: Float32Array;
  faces: (FaceRecord | null)[];
  /** Photos whose embedding failed (no vector at all). */
  failed: number[];
  /** Seconds the embedding took when it was made (not when read from the cache). */
  seconds: number;
  fromCache: boolean;
  key: string;
}

/** Compiled sources that decide a photo's vector; the registry's thresholds are left out (the spec's input and alignment go in the key). */
const PIPELINE_DIRS = ['detect', 'image', 'domain', 'inference/worker', 'models'];

async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.name.endsWith('.js') && e.name !== 'registry.js') out.push(p);
  }
  return out.sort();
}

let fingerprint: Promise<string> | undefined;

/** Hash of the compiled pipeline code (dist/src). */
export function pipelineFingerprint(): Promise<string> {
  fingerprint ??= (async () => {
    const hash = createHash('sha256');
    const src = path.join(REPO, 'dist/src');
    for (const d of PIPELINE_DIRS)
      for (const f of await filesUnder(path.join(src, d))) hash.update(path.relative(src, f)).update(await readFile(f));
    return hash.digest('hex').slice(0, 12);
  })();
  return fingerprint;
}

export interface EmbedRequest {
  model: string;
  /** Names that key the cache rows (e.g. "Name/Name_0001.jpg"), and the files to embed. */
  names: readonly string[];
  files: readonly string[];
  flip: FlipMode;
  /** What the files are (e.g. "full", "face-36"): part of the key. */
  variant: string;
  workers: number;
  /** A models file registering `model` (a variant of a built-in, bench/parts/lfw-channel-order.ts). */
  modelsConfig?: string;
}

interface Stored {
  model: string;
  version: string;
  dims: number;
  names: string[];
  faces: (FaceRecord | null)[];
  failed: number[];
  seconds: number;
  vectors: string;
}

export async function embedSet(req: EmbedRequest): Promise<EmbeddedSet> {
  const registry = ModelRegistry.load(req.modelsConfig);
  const spec = registry.get(req.model);
  // The weights' version without booting workers: a cached set needs none.
  const version = (await modelVersions(registry)).get(spec.name) ?? 'unknown';
  const namesHash = createHash('sha256').update(req.names.join('\n')).digest('hex').slice(0, 8);
  const optionsHash = createHash('sha256')
    .update(JSON.stringify({ input: spec.input, alignment: spec.alignment, output: spec.output, flip: req.flip }))
    .digest('hex')
    .slice(0, 8);
  const key = `${spec.name}-${version.slice(0, 12)}-${await pipelineFingerprint()}-${optionsHash}-${req.variant}-${namesHash}`;
  const file = path.join(CACHE_DIR, `${key}.json`);
  if (existsSync(file)) {
    const s = JSON.parse(await readFile(file, 'utf8')) as Stored;
    const buf = Buffer.from(s.vectors, 'base64');
    const vectors = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    return { ...s, vectors: Float32Array.from(vectors), fromCache: true, key };
  }
  const service = new EmbeddingService({
    modelName: req.model,
    workers: req.workers,
    logger: createLogger('silent'),
    ...(req.modelsConfig ? { modelsConfig: req.modelsConfig } : {}),
  });
  try {
    await service.ready();
    say(`embedding ${req.names.length} photos (${req.variant}) with ${spec.name}, flip ${req.flip}`);
    const t0 = performance.now();
    const results = await service.generateEmbeddingsBatch(req.files, { detect: 'auto', flip: req.flip });
    const seconds = (performance.now() - t0) / 1000;
    const dims = spec.dimensions;
    const vectors = new Float32Array(req.names.length * dims);
    const failed: number[] = [];
    const faces = results.map((r, i): FaceRecord | null => {
      if (!r) {
        failed.push(i);
        return null;
      }
      vectors.set(r.embedding, i * dims);
      const f = r.face;
      return {
        detected: f.detected,
        ...(f.score === undefined ? {} : { score: f.score }),
        ...(f.box ? { box: [...f.box] as FaceRecord['box'] } : {}),
        ...(f.landmarks ? { landmarks: f.landmarks.map((p) => [p[0], p[1]] as [number, number]) } : {}),
      };
    });
    say(`${spec.name} ${req.variant}: ${(req.names.length / seconds).toFixed(1)} photos/s, ${seconds.toFixed(0)} s`);
    const stored: Stored = {
      model: spec.name,
      version,
      dims,
      names: [...req.names],
      faces,
      failed,
      seconds,
      vectors: Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength).toString('base64'),
    };
    await mkdir(CACHE_DIR, { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(stored));
    await rename(`${file}.tmp`, file);
    return { model: spec.name, version, dims, vectors, faces, failed, seconds, fromCache: false, key };
  } finally {
    await service.close();
  }
}
