// Composition root: the only place that builds the pool, the database and the HTTP app together.
import { mkdir } from 'node:fs/promises';
import { loadConfig, type Config } from './config/config.js';
import { buildApp } from './http/app.js';
import { createLogger } from './logging/logger.js';
import { openDatabase } from './repositories/database.js';
import { EmbeddingRepository } from './repositories/embedding.repository.js';
import { migrate } from './repositories/migrate.js';
import { GalleryRegistry } from './services/gallery.registry.js';
import { EmbeddingService } from './services/embedding.service.js';

export interface ServeFlags {
  host?: string;
  port?: string;
}

export async function serve(flags: ServeFlags = {}): Promise<void> {
  const base = loadConfig();
  const config: Config = {
    ...base,
    http: {
      ...base.http,
      host: flags.host ?? base.http.host,
      port: flags.port === undefined ? base.http.port : Number(flags.port),
    },
  };
  const logger = createLogger(config.logLevel);
  await mkdir(config.mediaRoot, { recursive: true });
  const db = openDatabase(config.databaseUrl);
  await migrate(db);
  // Both built-ins are loaded by every worker up front, so no request pays for a model load.
  const embedder = new EmbeddingService({ config, logger, preload: ['facenet', 'arcface'] });
  const galleries = new GalleryRegistry({ embeddings: new EmbeddingRepository(db), embedder });
  const app = await buildApp({ config, db, embedder, logger, galleries });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    await app.close();
    await embedder.close();
    await db.destroy();
    logger.flush();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(signal));

  // Listen at once (readiness is /readyz); the workers boot in the background.
  await app.listen({ host: config.http.host, port: config.http.port });
  embedder.ready().catch((err: unknown) => logger.error({ err }, 'embedding workers failed to start'));
  // The search galleries are built from the database now, not by the first identify.
  galleries
    .loadAll()
    .then(() => logger.info({ galleries: galleries.stats() }, 'search galleries loaded'))
    .catch((err: unknown) => logger.error({ err }, 'search galleries failed to load (retried on first use)'));
}
