// The real HTTP app in this process, as a deployment runs it (SQLite in a temporary folder, the
// full worker pool, the shipped thresholds), driven through fastify's inject: JSON calls and
// multipart uploads with extra form fields.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logging/logger.js';
import { createServices } from '../../src/main.js';
import { openDatabase } from '../../src/repositories/database.js';
import { migrate } from '../../src/repositories/migrate.js';
import { EmbeddingService } from '../../src/services/embedding.service.js';
import type { FlipMode } from '../../src/inference/protocol.js';

export type App = Awaited<ReturnType<typeof buildApp>>;

export interface InProcessApp {
  app: App;
  embedder: EmbeddingService;
  /** Seconds the networks ran (detector windows, FaceMesh refit, embedding) in every photo scan so far. */
  networkSeconds(): number;
  close(): Promise<void>;
}

/** The worker's stages of a photo scan that are network runs (photo-faces.ts timings). */
const NETWORK_STAGES = ['detect', 'refine', 'embed'];

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** `flip` unset: the embedder's default, as the server runs it. */
export async function startInProcessApp(flip?: FlipMode): Promise<InProcessApp> {
  const work = await mkdtemp(path.join(tmpdir(), 'faceembed-attendance-'));
  const config = loadConfig({
    FACEEMBED_MEDIA_ROOT: path.join(work, 'media'),
    FACEEMBED_DATABASE_URL: `sqlite:${path.join(work, 'bench.db')}`,
    FACEEMBED_LOG_LEVEL: 'silent',
  });
  const logger = createLogger('silent');
  const db = openDatabase(config.databaseUrl);
  await migrate(db);
  const embedder = new EmbeddingService({ config, logger, ...(flip ? { flip } : {}) });
  const app = await buildApp({
    config,
    db,
    embedder,
    logger,
    services: (observer) => createServices({ db, embedder, config, observer }),
  });
  await embedder.ready();
  // The worker's own stage times, read off each scan the app asks for: the networks' share of an answer.
  let networkSeconds = 0;
  const embedFaces = embedder.embedFaces.bind(embedder);
  embedder.embedFaces = async (imagePath, opts) => {
    const scan = await embedFaces(imagePath, opts);
    for (const stage of NETWORK_STAGES) networkSeconds += (scan.timings[stage] ?? 0) / 1000;
    return scan;
  };
  return {
    app,
    embedder,
    networkSeconds: () => networkSeconds,
    async close() {
      await app.close();
      await embedder.close();
      await db.destroy();
      await rm(work, { recursive: true, force: true });
    },
  };
}

const parse = (body: string): Record<string, unknown> => {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return { text: body };
  }
};

/** Any answer, for callers that handle refusals themselves. */
export async function call(app: App, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) {
  const res = await app.inject({ method, url, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: parse(res.body) } satisfies Reply;
}

/** A call that must succeed (2xx): anything else stops the benchmark with the answer. */
export async function json<T = Record<string, unknown>>(
  app: App,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  payload?: object,
): Promise<T> {
  const res = await call(app, method, url, payload);
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}

/** A multipart POST: the text fields, then the JPEG in field `image`. */
export async function postImage(
  app: App,
  url: string,
  jpeg: Buffer,
  fields: Record<string, string> = {},
): Promise<Reply> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('image', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'photo.jpg');
  const req = new Request('http://localhost/', { method: 'POST', body: fd });
  const res = await app.inject({
    method: 'POST',
    url,
    payload: Buffer.from(await req.arrayBuffer()),
    headers: { 'content-type': req.headers.get('content-type')! },
  });
  return { status: res.statusCode, body: parse(res.body) };
}
