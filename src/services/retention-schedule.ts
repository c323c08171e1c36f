// Scheduled purges: a purge job at start and then every PURGE_INTERVAL_HOURS, on the
// job engine (embedded or BullMQ), when the schedule has anything to enforce. Several servers on
// one database may each ask: JobService.createPurge answers the purge already queued or running.
import type { Logger } from 'pino';
import type { JobService } from './job.service.js';
import { PURGE_INTERVAL_HOURS, type RetentionService } from './retention.service.js';

/** How long after start the first purge is asked for (the engine connects first). */
const FIRST_DELAY_MS = 5_000;

export function scheduleRetention(deps: {
  jobs: Pick<JobService, 'createPurge'>;
  retention: Pick<RetentionService, 'enforced'>;
  log: Logger;
  intervalMs?: number;
  firstDelayMs?: number;
}): { stop(): void } {
  if (!deps.retention.enforced) return { stop: () => undefined };
  const run = () =>
    deps.jobs
      .createPurge('system')
      .then((v) => deps.log.info({ job: v.job.id }, 'retention purge queued'))
      .catch((err: unknown) => deps.log.warn({ err }, 'retention purge not queued; tried again at the next interval'));
  const first = setTimeout(run, deps.firstDelayMs ?? FIRST_DELAY_MS);
  const every = setInterval(run, deps.intervalMs ?? PURGE_INTERVAL_HOURS * 3600_000);
  first.unref();
  every.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(every);
    },
  };
}
