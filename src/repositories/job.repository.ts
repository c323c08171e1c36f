// The jobs' own rows: created with their items, listed, started, completed, failed and
// cancelled. Every state change is one conditional statement (status guards in the WHERE
// clause), so several processes working on one job (BullMQ nodes, a restarted server) never move
// a job backwards; the item statements and the cancel's rules are in job-item.repository.ts.
import { sql } from 'kysely';
import { JobItemRepository } from './job-item.repository.js';
import {
  ACTIVE_JOB,
  INSERT_CHUNK,
  OPEN_ITEM,
  WORKING_JOB,
  chunks,
  toJob,
  type Job,
  type JobKind,
  type JobStatus,
  type JobVisibility,
  type NewJob,
} from './job-rows.js';

export class JobRepository extends JobItemRepository {
  /** The job and all its items, in one transaction: a job is never visible half-created. */
  async create(job: NewJob): Promise<Job> {
    const now = new Date().toISOString();
    const id = await this.db.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('jobs')
        .values({
          kind: job.kind,
          status: 'queued',
          model_name: job.kind === 'enrol' || job.kind === 'purge' ? '' : job.modelName,
          session_id: job.kind === 'session-photo' ? job.sessionId : null,
          actor: job.kind === 'enrol' ? null : (job.actor ?? null),
          force: job.kind === 'generate-embeddings' && job.force ? 1 : 0,
          total: 0,
          error: null,
          created_at: now,
          started_at: null,
          finished_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const jobId = Number(id);
      let total: number;
      if (job.kind === 'session-photo') {
        await trx
          .insertInto('job_items')
          .values({ job_id: jobId, item_id: 1, status: 'pending', attempts: 0, image_path: job.imagePath })
          .execute();
        total = 1;
      } else if (job.kind === 'purge') {
        await trx
          .insertInto('job_items')
          .values({ job_id: jobId, item_id: 1, status: 'pending', attempts: 0 })
          .execute();
        total = 1;
      } else if (job.kind === 'enrol') {
        const rows = job.photos.map((p, i) => ({
          job_id: jobId,
          item_id: i + 1,
          status: 'pending',
          attempts: 0,
          image_path: p.imagePath,
          person_id: p.personId,
        }));
        for (const part of chunks(rows, INSERT_CHUNK)) await trx.insertInto('job_items').values(part).execute();
        total = rows.length;
      } else if (job.faceCropIds === 'all') {
        await sql`insert into job_items (job_id, item_id, status, attempts)
                  select ${jobId}, id, 'pending', 0 from face_crops`.execute(trx);
        const { n } = await trx
          .selectFrom('job_items')
          .where('job_id', '=', jobId)
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow();
        total = Number(n);
      } else {
        const unique = [...new Set(job.faceCropIds)];
        for (const part of chunks(unique, INSERT_CHUNK)) {
          await trx
            .insertInto('job_items')
            .values(part.map((faceCropId) => ({ job_id: jobId, item_id: faceCropId, status: 'pending', attempts: 0 })))
            .execute();
        }
        total = unique.length;
      }
      await trx.updateTable('jobs').set({ total }).where('id', '=', jobId).execute();
      return jobId;
    });
    return (await this.get(id))!;
  }

  async get(id: number): Promise<Job | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toJob(row);
  }

  async list(opts: {
    status?: JobStatus;
    offset: number;
    limit: number;
    visibleTo?: JobVisibility;
  }): Promise<{ count: number; jobs: Job[] }> {
    let q = this.db.selectFrom('jobs');
    if (opts.status) q = q.where('status', '=', opts.status);
    const v = opts.visibleTo;
    if (v)
      q = q.where((eb) =>
        eb.or([
          eb('actor', '=', v.actor),
          eb(
            'session_id',
            'in',
            eb
              .selectFrom('sessions')
              .select('id')
              .where('group_id', 'in', [...v.groupIds, 0]),
          ),
        ]),
      );
    const { n } = await q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('id', 'desc').offset(opts.offset).limit(opts.limit).execute();
    return { count: Number(n), jobs: rows.map(toJob) };
  }

  /** Deletes a job and its items (a job whose enqueueing failed). */
  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('jobs').where('id', '=', id).execute();
  }

  /** queued -> running; false when the job is no longer active (cancelled meanwhile). */
  async start(jobId: number): Promise<boolean> {
    await this.db
      .updateTable('jobs')
      .set({ status: 'running', started_at: new Date().toISOString() })
      .where('id', '=', jobId)
      .where('status', '=', 'queued')
      .execute();
    return (await this.get(jobId))?.status === 'running';
  }

  /** running -> completed once no item is open; true when this call completed it. */
  async completeIfDone(jobId: number): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({ status: 'completed', finished_at: new Date().toISOString() })
      .where('id', '=', jobId)
      .where('status', '=', 'running')
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('job_items')
              .select('item_id')
              .where('job_id', '=', jobId)
              .where('status', 'in', [...OPEN_ITEM]),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async fail(jobId: number, error: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ status: 'failed', error, finished_at: new Date().toISOString() })
      .where('id', '=', jobId)
      .where('status', 'in', [...ACTIVE_JOB])
      .execute();
  }

  /**
   * queued/running -> cancelling, and at once cancelled when no item is running; the job as it
   * is afterwards (undefined when there is none).
   */
  async cancel(jobId: number): Promise<Job | undefined> {
    await this.db
      .updateTable('jobs')
      .set({ status: 'cancelling' })
      .where('id', '=', jobId)
      .where('status', 'in', ['queued', 'running'])
      .execute();
    await this.settleCancel(jobId);
    return this.get(jobId);
  }

  /**
   * cancelling -> cancelled once none of its items is running (one job, or every one); from
   * then on no item statement touches the job. Returns how many jobs it cancelled.
   */
  async settleCancel(jobId?: number): Promise<number> {
    const r = await this.db
      .updateTable('jobs')
      .set({ status: 'cancelled', finished_at: new Date().toISOString() })
      .where('status', '=', 'cancelling')
      .$if(jobId !== undefined, (q) => q.where('id', '=', jobId!))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('job_items')
              .select('item_id')
              .whereRef('job_items.job_id', '=', 'jobs.id')
              .where('job_items.status', '=', 'running'),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Active jobs of one kind (the queued-photos bound). */
  async countActive(kind: JobKind): Promise<number> {
    const { n } = await this.db
      .selectFrom('jobs')
      .where('kind', '=', kind)
      .where('status', 'in', [...ACTIVE_JOB])
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Active jobs, oldest first. */
  async active(): Promise<Job[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('status', 'in', [...ACTIVE_JOB])
      .orderBy('id')
      .execute();
    return rows.map(toJob);
  }

  /**
   * Items left running by a process that died: pending again, and a job that was cancelling
   * is cancelled (embedded engine, at start).
   */
  async releaseOrphans(): Promise<number> {
    const r = await this.db
      .updateTable('job_items')
      .set({ status: 'pending' })
      .where('status', '=', 'running')
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('jobs')
            .select('jobs.id')
            .whereRef('jobs.id', '=', 'job_items.job_id')
            .where('jobs.status', 'in', [...WORKING_JOB]),
        ),
      )
      .executeTakeFirst();
    await this.settleCancel();
    return Number(r.numUpdatedRows);
  }

  // ---- figures for /metrics ----------------------------------------------------------------

  async countByStatus(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('status')
      .execute();
    return new Map(rows.map((r) => [r.status, Number(r.n)]));
  }
}
