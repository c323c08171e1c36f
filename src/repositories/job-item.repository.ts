// The items of a job, read, claimed, released and finished. An item is keyed by `itemId`: the
// face crop of a generate-embeddings job, the photo's number (1..n) in an enrol job, 1 for a
// session-photo job. Every change is one conditional statement, so no process moves an item
// backwards.
//
// A final cancel, with the database as the arbiter: an item starts only while its job is
// `running`, an outcome lands only while it is `running` or `cancelling`, and a `cancelling`
// job becomes `cancelled` only once none of its items is running. Each item statement checks
// the job's row in the same statement (locked FOR SHARE on PostgreSQL, so the status update
// waits for it; SQLite runs one writer at a time), so no process can start or finish an item
// of a job that another process has just moved on.
import type { ExpressionBuilder } from 'kysely';
import { databaseKind, type Database, type DB } from './database.js';
import {
  ACTIVE_JOB,
  DONE_ITEM,
  IN_CHUNK,
  ITEM_COLUMNS,
  OPEN_ITEM,
  WORKING_JOB,
  chunks,
  toItem,
  type ItemOutcome,
  type JobItem,
  type JobProgress,
  type JobStatus,
} from './job-rows.js';

/** The item statements; JobRepository adds the job rows' own, so callers hold one repository. */
export class JobItemRepository {
  private readonly lockJobRow: boolean;

  constructor(protected readonly db: Database) {
    this.lockJobRow = databaseKind(db) === 'postgres';
  }

  /** "The job is in one of `statuses`", for an item statement's WHERE (see the header). */
  private jobIn(jobId: number, statuses: readonly JobStatus[]) {
    return (eb: ExpressionBuilder<DB, 'job_items'>) =>
      eb.exists(
        eb
          .selectFrom('jobs')
          .select('jobs.id')
          .where('jobs.id', '=', jobId)
          .where('jobs.status', 'in', [...statuses])
          .$if(this.lockJobRow, (q) => q.forShare()),
      );
  }

  async progress(jobId: number, total: number): Promise<JobProgress> {
    const rows = await this.db
      .selectFrom('job_items')
      .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('job_id', '=', jobId)
      .where('status', 'in', [...DONE_ITEM, 'failed'])
      .groupBy('status')
      .execute();
    const by = new Map(rows.map((r) => [r.status, Number(r.n)]));
    const done = DONE_ITEM.reduce((n, status) => n + (by.get(status) ?? 0), 0);
    return { total, done, failed: by.get('failed') ?? 0 };
  }

  async items(jobId: number): Promise<JobItem[]> {
    const rows = await this.db
      .selectFrom('job_items')
      .select(ITEM_COLUMNS)
      .where('job_id', '=', jobId)
      .orderBy('item_id')
      .execute();
    return rows.map(toItem);
  }

  /** Every item key of the job, in order (an engine re-deriving the job's slices). */
  async itemIds(jobId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('job_items')
      .select('item_id')
      .where('job_id', '=', jobId)
      .orderBy('item_id')
      .execute();
    return rows.map((r) => Number(r.item_id));
  }

  /** The job's items that are not finished, in key order (`limit` of them, or those among `ids`). */
  async openItems(
    jobId: number,
    scope: { ids?: readonly number[]; limit?: number; pendingOnly?: boolean },
  ): Promise<JobItem[]> {
    const run = async (ids?: readonly number[]) => {
      let q = this.db
        .selectFrom('job_items')
        .select(ITEM_COLUMNS)
        .where('job_id', '=', jobId)
        .where('status', 'in', scope.pendingOnly ? ['pending'] : [...OPEN_ITEM]);
      if (ids) q = q.where('item_id', 'in', [...ids]);
      if (scope.limit !== undefined) q = q.limit(scope.limit);
      return q.orderBy('item_id').execute();
    };
    const rows = scope.ids ? (await Promise.all(chunks(scope.ids, IN_CHUNK).map(run))).flat() : await run();
    return rows.map(toItem);
  }

  /**
   * Items taken by `node` (reserved, or started: a start counts as an attempt), only while the
   * job is running; returns the ids taken (none once a cancel has begun).
   */
  async markRunning(jobId: number, ids: readonly number[], node: string, countAttempt: boolean): Promise<number[]> {
    const taken: number[] = [];
    for (const part of chunks(ids, IN_CHUNK)) {
      const rows = await this.db
        .updateTable('job_items')
        .set((eb) => ({ status: 'running', node, attempts: eb('attempts', '+', countAttempt ? 1 : 0) }))
        .where('job_id', '=', jobId)
        .where('item_id', 'in', part)
        .where('status', 'in', [...OPEN_ITEM])
        .where(this.jobIn(jobId, ['running']))
        .returning('item_id')
        .execute();
      taken.push(...rows.map((r) => Number(r.item_id)));
    }
    return taken;
  }

  /** Back to pending (unstarted, a transient failure with attempts left, or a dead node's). */
  async release(jobId: number, ids: readonly number[]): Promise<void> {
    for (const part of chunks(ids, IN_CHUNK)) {
      await this.db
        .updateTable('job_items')
        .set({ status: 'pending' })
        .where('job_id', '=', jobId)
        .where('item_id', 'in', part)
        .where('status', '=', 'running')
        .where(this.jobIn(jobId, WORKING_JOB))
        .execute();
    }
  }

  /**
   * Final outcomes, one statement per status; one by one those that carry their own values (a
   * failure's message, an enrolment's face crop). Dropped once the job is cancelled.
   */
  async finish(jobId: number, outcomes: readonly ItemOutcome[]): Promise<void> {
    const now = new Date().toISOString();
    const plain = (o: ItemOutcome) =>
      o.status !== 'failed' && o.enrolledFaceCropId === undefined && o.result === undefined;
    await this.db.transaction().execute(async (trx) => {
      for (const status of DONE_ITEM) {
        const ids = outcomes.filter((o) => plain(o) && o.status === status).map((o) => o.itemId);
        for (const part of chunks(ids, IN_CHUNK)) {
          await trx
            .updateTable('job_items')
            .set({ status, finished_at: now, error_type: null, error_message: null, error_details: null })
            .where('job_id', '=', jobId)
            .where('item_id', 'in', part)
            .where('status', 'in', [...OPEN_ITEM])
            .where(this.jobIn(jobId, WORKING_JOB))
            .execute();
        }
      }
      for (const o of outcomes.filter((x) => x.status !== 'failed' && !plain(x))) {
        await trx
          .updateTable('job_items')
          .set({
            status: o.status,
            finished_at: now,
            error_type: null,
            error_message: null,
            error_details: null,
            enrolled_face_crop_id: o.enrolledFaceCropId,
            result: o.result === undefined ? null : JSON.stringify(o.result),
          })
          .where('job_id', '=', jobId)
          .where('item_id', '=', o.itemId)
          .where('status', 'in', [...OPEN_ITEM])
          .where(this.jobIn(jobId, WORKING_JOB))
          .execute();
      }
      for (const o of outcomes.filter((x) => x.status === 'failed')) {
        await trx
          .updateTable('job_items')
          .set({
            status: 'failed',
            finished_at: now,
            error_type: o.errorType ?? 'InternalError',
            error_message: o.errorMessage ?? null,
            error_details: o.errorDetails === undefined ? null : JSON.stringify(o.errorDetails),
          })
          .where('job_id', '=', jobId)
          .where('item_id', '=', o.itemId)
          .where('status', 'in', [...OPEN_ITEM])
          .where(this.jobIn(jobId, WORKING_JOB))
          .execute();
      }
    });
  }

  // ---- figures for /metrics ----------------------------------------------------------------

  /** Items of active jobs not finished yet. */
  async openItemCount(): Promise<number> {
    const { n } = await this.db
      .selectFrom('job_items')
      .innerJoin('jobs', 'jobs.id', 'job_items.job_id')
      .where('jobs.status', 'in', [...ACTIVE_JOB])
      .where('job_items.status', 'in', [...OPEN_ITEM])
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Items finished since `since`, by the node that ran them. */
  async finishedByNode(since: Date): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('job_items')
      .select(['node', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('finished_at', '>=', since.toISOString())
      .groupBy('node')
      .execute();
    return new Map(rows.map((r) => [r.node ?? 'unknown', Number(r.n)]));
  }
}
