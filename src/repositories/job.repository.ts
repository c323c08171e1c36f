// Jobs and their items. Every state change is one conditional statement (status guards in the
// WHERE clause), so several processes working on one job (BullMQ nodes, a restarted server)
// never move a job or an item backwards. An item is keyed by `itemId`: the face crop of a
// generate-embeddings job, the photo's number (1..n) in an enrol job, 1 for a session-photo job.
//
// A final cancel, with the database as the arbiter: an item starts only while its job is
// `running`, an outcome lands only while it is `running` or `cancelling`, and a `cancelling`
// job becomes `cancelled` only once none of its items is running. Each item statement checks
// the job's row in the same statement (locked FOR SHARE on PostgreSQL, so the status update
// waits for it; SQLite runs one writer at a time), so no process can start or finish an item
// of a job that another process has just moved on.
import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import { databaseKind, type Database, type DB, type JobItemTable, type JobTable } from './database.js';
import { toIso } from './face-crop.repository.js';
import type { ErrorDetails } from '../errors.js';

export type JobKind = 'generate-embeddings' | 'enrol' | 'session-photo' | 'purge';
export const JOB_STATUSES = ['queued', 'running', 'cancelling', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export type ItemStatus = 'pending' | 'running' | FinishedItemStatus;
export type FinishedItemStatus = 'generated' | 'existing' | 'enrolled' | 'stored' | 'purged' | 'failed';
/** Not ended yet: a cancelling job still has items in flight. */
export const ACTIVE_JOB: readonly JobStatus[] = ['queued', 'running', 'cancelling'];
/** Item outcomes (and releases) land only while the job is in one of these. */
const WORKING_JOB: readonly JobStatus[] = ['running', 'cancelling'];
const OPEN_ITEM: readonly ItemStatus[] = ['pending', 'running'];
/** Finished without error. */
const DONE_ITEM: readonly ItemStatus[] = ['generated', 'existing', 'enrolled', 'stored', 'purged'];

export interface Job {
  id: number;
  kind: JobKind;
  status: JobStatus;
  modelName: string;
  force: boolean;
  total: number;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** session-photo jobs: the session, and who uploaded the photo. */
  sessionId: number | null;
  actor: string | null;
}

export interface JobProgress {
  total: number;
  /** Items finished without error (generated, existing, enrolled or stored). */
  done: number;
  failed: number;
}

export interface JobItem {
  itemId: number;
  status: ItemStatus;
  attempts: number;
  errorType: string | null;
  errorMessage: string | null;
  /** A failed item's error details (an enrolment refusal's reason, ...). */
  errorDetails: ErrorDetails | null;
  /** Enrol items: the photo (relative to the media root) and its person. */
  imagePath: string | null;
  personId: number | null;
  /** Enrol items, once done: the face crop enrolled. */
  enrolledFaceCropId: number | null;
  /** session-photo items, once done: the upload's answer (JSON text). */
  result: string | null;
}

export interface ItemOutcome {
  itemId: number;
  status: FinishedItemStatus;
  errorType?: string;
  errorMessage?: string;
  errorDetails?: ErrorDetails;
  /** Enrol items: the face crop enrolled (or found already enrolled). */
  enrolledFaceCropId?: number;
  /** session-photo items: the upload's answer, stored as JSON. */
  result?: unknown;
}

export interface EnrolPhoto {
  /** Relative to the media root. */
  imagePath: string;
  personId: number;
}

/** A scoped key's jobs: those it started, and those of its groups' sessions. */
export interface JobVisibility {
  actor: string;
  groupIds: readonly number[];
}

export type NewJob =
  | {
      kind: 'generate-embeddings';
      modelName: string;
      force: boolean;
      /** The crops to work on, or every crop stored when the job is created. */
      faceCropIds: readonly number[] | 'all';
      /** The key that asked. */
      actor?: string;
    }
  | { kind: 'enrol'; photos: readonly EnrolPhoto[] }
  /** One class photo, already stored under the media root, for its session. */
  | { kind: 'session-photo'; sessionId: number; imagePath: string; actor: string; modelName: string }
  /** One retention purge (its one item's result: the purge report). */
  | { kind: 'purge'; actor: string };

/** Rows per multi-row insert (SQLite allows 32766 bound parameters). */
const INSERT_CHUNK = 1000;
/** Ids per IN (...) list. */
const IN_CHUNK = 500;

const ITEM_COLUMNS = [
  'item_id',
  'status',
  'attempts',
  'error_type',
  'error_message',
  'error_details',
  'image_path',
  'person_id',
  'enrolled_face_crop_id',
  'result',
] as const;

const toJob = (r: Selectable<JobTable>): Job => ({
  id: Number(r.id),
  kind: r.kind as JobKind,
  status: r.status as JobStatus,
  modelName: r.model_name,
  force: Number(r.force) === 1,
  total: Number(r.total),
  error: r.error,
  createdAt: toIso(r.created_at),
  startedAt: r.started_at === null ? null : toIso(r.started_at),
  finishedAt: r.finished_at === null ? null : toIso(r.finished_at),
  sessionId: r.session_id === null ? null : Number(r.session_id),
  actor: r.actor,
});

const toItem = (r: Pick<Selectable<JobItemTable>, (typeof ITEM_COLUMNS)[number]>): JobItem => ({
  itemId: Number(r.item_id),
  status: r.status as ItemStatus,
  attempts: Number(r.attempts),
  errorType: r.error_type,
  errorMessage: r.error_message,
  errorDetails: r.error_details === null ? null : (JSON.parse(r.error_details) as ErrorDetails),
  imagePath: r.image_path,
  personId: r.person_id === null ? null : Number(r.person_id),
  enrolledFaceCropId: r.enrolled_face_crop_id === null ? null : Number(r.enrolled_face_crop_id),
  result: r.result,
});

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class JobRepository {
  private readonly lockJobRow: boolean;

  constructor(private readonly db: Database) {
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
