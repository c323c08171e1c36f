// Builds the real app for HTTP tests: real config loader, real database (see db-targets),
// a media root in a temp dir holding the sample photos and a few broken files, and the real
// EmbeddingService with one worker.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config/config.js';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/main.js';
import type { Database } from '../../src/repositories/database.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import type { EmbeddingServiceOptions } from '../../src/services/embedding-settings.js';
import type { EmbeddingPort } from '../../src/services/embedding.types.js';
import type { EmbeddingObserver } from '../../src/services/crop-embedding.service.js';
import { SAMPLES, sample } from '../helpers/paths.js';
import type { DbTarget, OpenedDb } from '../repositories/db-targets.js';

export const silent = pino({ level: 'silent' });

/** Files under faces/ in every test media root. */
export const FACES = {
  a1: 'faces/sample1.jpg',
  a2: 'faces/sample2.jpg',
  a3: 'faces/sample3.jpg',
  truncated: 'faces/truncated.jpg',
  notImage: 'faces/not-image.jpg',
  empty: 'faces/empty.jpg',
  png: 'faces/facemesh.png',
} as const;

export async function makeMediaRoot(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'faceembed-media-'));
  await mkdir(path.join(root, 'faces'));
  for (const n of [1, 2, 3]) await copyFile(sample(n), path.join(root, `faces/sample${n}.jpg`));
  await copyFile(path.join(SAMPLES, 'facemesh.png'), path.join(root, FACES.png));
  const jpeg = await readFile(sample(1));
  await writeFile(path.join(root, FACES.truncated), jpeg.subarray(0, Math.floor(jpeg.length / 3)));
  await writeFile(path.join(root, FACES.notImage), 'this is plain text, not a JPEG\n');
  await writeFile(path.join(root, FACES.empty), '');
  return root;
}

export interface TestEmbedder {
  embedder: EmbeddingService;
  close(): Promise<void>;
}

/** The real service, one worker, models prepared into a temp dir. */
export async function startEmbedder(opts: EmbeddingServiceOptions = {}): Promise<TestEmbedder> {
  const modelsDir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-models-'));
  const embedder = new EmbeddingService({ modelName: 'facenet', workers: 1, modelsDir, logger: silent, ...opts });
  await embedder.ready();
  return {
    embedder,
    async close() {
      await embedder.close();
      await rm(modelsDir, { recursive: true, force: true });
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  db: Database;
  config: Config;
  mediaRoot: string;
  opened: OpenedDb;
  close(): Promise<void>;
}

/** A fresh database and media root; `env` adds FACEEMBED_* settings. */
export async function buildTestApp(
  target: DbTarget,
  embedder: EmbeddingPort,
  env: Record<string, string> = {},
): Promise<TestApp> {
  const opened = await target.open();
  const mediaRoot = await makeMediaRoot();
  return appOn(opened, mediaRoot, embedder, env, async () => {
    await opened.close();
    await rm(mediaRoot, { recursive: true, force: true });
  });
}

/** Another app over an existing database and media root (other settings, same data). */
export async function appOn(
  opened: OpenedDb,
  mediaRoot: string,
  embedder: EmbeddingPort,
  env: Record<string, string> = {},
  cleanup?: () => Promise<void>,
): Promise<TestApp> {
  const config = loadConfig(
    { FACEEMBED_MEDIA_ROOT: mediaRoot, FACEEMBED_DATABASE_URL: opened.url, FACEEMBED_LOG_LEVEL: 'silent', ...env },
    mediaRoot,
  );
  const db = opened.db;
  const services = (observer: EmbeddingObserver) => createServices({ db, embedder, config, observer });
  const app = await buildApp({ config, db, embedder, logger: silent, services });
  return {
    app,
    db: opened.db,
    config,
    mediaRoot,
    opened,
    async close() {
      await app.close();
      await cleanup?.();
    },
  };
}

/** A multipart/form-data body as a browser or curl -F would send it. */
export async function form(parts: Record<string, string | { data: Buffer; filename: string; type?: string }>) {
  const fd = new FormData();
  for (const [name, v] of Object.entries(parts)) {
    if (typeof v === 'string') fd.append(name, v);
    else fd.append(name, new Blob([v.data], { type: v.type ?? 'application/octet-stream' }), v.filename);
  }
  const req = new Request('http://localhost/', { method: 'POST', body: fd });
  return {
    payload: Buffer.from(await req.arrayBuffer()),
    headers: { 'content-type': req.headers.get('content-type')! },
  };
}

/** Asserts the error envelope (docs/api.md "Errors") and returns its error object. */
export function assertError(
  res: LightMyRequestResponse,
  status: number,
  type: string,
): { type: string; message: string; details?: Record<string, unknown>; traceback?: string } {
  assert.equal(res.statusCode, status, `expected ${status} ${type}, got ${res.statusCode}: ${res.body}`);
  const body = res.json() as { error: { type: string; message: string }; request_id: string };
  assert.equal(body.error.type, type, res.body);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.request_id && body.request_id === res.headers['x-request-id'], res.body);
  return body.error;
}

export const CROPS = '/api/attendance/face-crops/';
