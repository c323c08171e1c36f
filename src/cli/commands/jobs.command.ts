// `faceembed jobs watch ID`: a progress bar from the database until the job ends (works under
// both engines, on any machine with the database URL).
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { NotFoundError } from '../../errors.js';
import { openDatabase } from '../../repositories/database.js';
import { JobRepository } from '../../repositories/job.repository.js';
import type { JobProgress, JobStatus } from '../../repositories/job-rows.js';
import { migrate } from '../../repositories/migrate.js';
import { progressLine } from './progress.js';

const POLL_MS = 250;
const ENDED = new Set(['completed', 'failed', 'cancelled']);

/**
 * Polls the job's rows until it ends; prints the final job as one JSON line (unless the caller
 * prints its own summary); exit 1 unless it completed without a failed item.
 */
export async function watchJob(
  repo: JobRepository,
  id: number,
  opts: { print?: boolean } = {},
): Promise<{ status: JobStatus; progress: JobProgress }> {
  const first = await repo.get(id);
  if (!first) throw new NotFoundError(`Job ${id} not found`, { job_id: id });
  const label = first.kind === 'enrol' ? first.kind : `${first.kind}, ${first.modelName}`;
  const bar = progressLine(`job ${id} (${label})`, first.total);
  let shown = 0;
  for (;;) {
    const job = (await repo.get(id))!;
    const p = await repo.progress(id, job.total);
    bar.tick(p.done + p.failed - shown);
    shown = p.done + p.failed;
    if (ENDED.has(job.status)) {
      bar.done();
      if (opts.print !== false) process.stdout.write(`${JSON.stringify({ id, status: job.status, progress: p })}\n`);
      if (job.status !== 'completed' || p.failed) process.exitCode = 1;
      return { status: job.status, progress: p };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('Long work: watch a job');
  jobs
    .command('watch')
    .description('Show a progress bar until the job ends')
    .argument('<id>', 'job id')
    .action(async (id: string) => {
      const config = loadConfig();
      const db = openDatabase(config.databaseUrl);
      try {
        await migrate(db);
        await watchJob(new JobRepository(db), Number(id));
      } finally {
        await db.destroy();
      }
    });
}
