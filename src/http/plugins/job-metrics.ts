// Job figures on /metrics, read from the database (the source of truth under both engines) at
// scrape time: jobs by status, open items, the engine's queue depth, items per second per node.
import { Gauge, type Registry } from 'prom-client';
import { JOB_STATUSES } from '../../repositories/job-rows.js';
import type { JobFigures, JobService } from '../../services/job.service.js';

export function installJobMetrics(registry: Registry, jobs: JobService): void {
  const registers = [registry];
  // One database read per scrape, shared by the gauges below.
  let pending: Promise<JobFigures | undefined> | undefined;
  const figures = () => {
    pending ??= jobs
      .figures()
      .catch(() => undefined)
      .finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  new Gauge({
    name: 'faceembed_jobs',
    help: 'Jobs by status',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const f = await figures();
      if (!f) return;
      for (const status of JOB_STATUSES) this.set({ status }, f.byStatus.get(status) ?? 0);
    },
  });
  new Gauge({
    name: 'faceembed_job_items_open',
    help: 'Items of queued or running jobs not finished yet',
    registers,
    async collect() {
      const f = await figures();
      if (f) this.set(f.openItems);
    },
  });
  new Gauge({
    name: 'faceembed_job_queue_depth',
    help: 'Queue jobs (slices) waiting or active in BullMQ; absent with the embedded engine',
    registers,
    async collect() {
      const f = await figures();
      if (f?.queueDepth !== undefined) this.set(f.queueDepth);
    },
  });
  new Gauge({
    name: 'faceembed_job_items_per_second',
    help: 'Job items finished per second over the last minute, by node (host:pid)',
    labelNames: ['node'] as const,
    registers,
    async collect() {
      const f = await figures();
      if (!f) return;
      this.reset();
      for (const [node, rate] of f.itemsPerSecond) this.set({ node }, rate);
    },
  });
}
