// Prometheus metrics on an own Registry (several apps can live in one process, as in tests):
// HTTP traffic, embeddings by model and outcome, and the worker pool read from
// embedder.stats() at scrape time.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EmbeddingPort, PoolStats } from '../../services/embedding.types.js';
import type { EmbeddingObserver } from '../../services/crop-embedding.service.js';

export interface Metrics {
  registry: Registry;
  observeEmbedding: EmbeddingObserver;
}

export function installMetrics(app: FastifyInstance, embedder: EmbeddingPort): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: 'faceembed_' });

  const requests = new Counter({
    name: 'faceembed_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'faceembed_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'] as const,
    registers,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  const embeddings = new Counter({
    name: 'faceembed_embeddings_total',
    help: 'Embeddings asked for, by model and outcome (generated, existing, failed)',
    labelNames: ['model', 'outcome', 'error_type'] as const,
    registers,
  });

  // Pool figures are read when scraped; a closed or failing embedder reports nothing.
  const stats = (): PoolStats | undefined => {
    try {
      return embedder.stats();
    } catch {
      return undefined;
    }
  };
  const poolGauge = (name: string, help: string, pick: (s: PoolStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const s = stats();
        if (s) this.set(pick(s));
      },
    });
  poolGauge('faceembed_pool_workers', 'Worker processes in the pool', (s) => s.workers);
  poolGauge('faceembed_pool_busy_workers', 'Workers running a job', (s) => s.busy);
  poolGauge('faceembed_pool_queue_depth', 'Jobs waiting for a worker', (s) => s.queued);
  new Counter({
    name: 'faceembed_worker_restarts_total',
    help: 'Worker replacements by cause (crash, timeout, recycle, …)',
    labelNames: ['cause'] as const,
    registers,
    collect() {
      const s = stats();
      if (!s) return;
      this.reset();
      for (const [cause, n] of Object.entries(s.restarts)) this.inc({ cause }, n);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status_code: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });

  return {
    registry,
    observeEmbedding: ({ model, outcome, errorType }) =>
      embeddings.inc({ model, outcome, error_type: errorType ?? '' }),
  };
}
