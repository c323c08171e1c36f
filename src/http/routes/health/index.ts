// Liveness (/healthz: the process answers) and readiness (/readyz: database reachable,
// models prepared and pool up). Readiness failures are logged; the body only names the check.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Database } from '../../../repositories/database.js';
import { pingDatabase } from '../../../repositories/database.js';
import type { EmbeddingPort } from '../../../services/embedding.types.js';

export interface HealthRoutesOptions {
  db: Database;
  embedder: EmbeddingPort;
  /** How long a readiness check may take before it counts as failed. */
  timeoutMs?: number;
}

const Check = Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]);
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Object({ database: Check, embedder: Check }),
});

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (
  app,
  { db, embedder, timeoutMs = 2000 },
) => {
  app.get(
    '/healthz',
    {
      schema: { tags: ['health'], summary: 'Liveness', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: { tags: ['health'], summary: 'Readiness', response: { 200: Readiness, 503: Readiness } },
    },
    async (request, reply) => {
      const probe = async (name: string, fn: () => Promise<unknown>): Promise<'ok' | 'unavailable'> => {
        try {
          await within(fn(), timeoutMs, name);
          return 'ok';
        } catch (err) {
          request.log.warn({ err, check: name }, `readiness check ${name} failed`);
          return 'unavailable';
        }
      };
      const [database, emb] = await Promise.all([
        probe('database', () => pingDatabase(db)),
        probe('embedder', () => embedder.ready()),
      ]);
      const ready = database === 'ok' && emb === 'ok';
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', checks: { database, embedder: emb } });
    },
  );
};
