// Shared steps of the job fault tests: crops on disk and registered, jobs started and polled over
// HTTP, and the job's items checked in the database next to the embedding rows.
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../../../src/repositories/database.js';
import { smallFace, writeMedia, type Workspace } from './fixtures.js';
import { Api, BATCH, generatePath } from './http.js';

export const JOBS = '/api/attendance/jobs/';

export interface JobBody {
  id: number;
  status: string;
  progress: { total: number; done: number; failed: number };
  result?: {
    results: { face_crop_id: number; status: string; error?: { type: string } }[];
    summary: { generated: number; existing: number; failed: number };
  };
}

/** `count` crop files (copies of six small face photos) under crops/; returns their names. */
export async function writeCrops(ws: Workspace, count: number, prefix = 'c'): Promise<string[]> {
  for (const n of [1, 2, 3, 4, 5, 6]) await writeMedia(ws.mediaRoot, `faces/${n}.jpg`, await smallFace(n));
  await mkdir(path.join(ws.mediaRoot, 'crops'), { recursive: true });
  const names = Array.from({ length: count }, (_, i) => `crops/${prefix}${String(i).padStart(4, '0')}.jpg`);
  for (const [i, name] of names.entries())
    await copyFile(path.join(ws.mediaRoot, `faces/${(i % 6) + 1}.jpg`), path.join(ws.mediaRoot, name));
  return names;
}

/** Registers the files 8 at a time; ids in the names' order. */
export async function registerAll(api: Api, names: readonly string[]): Promise<number[]> {
  const ids = new Array<number>(names.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < names.length) {
        const i = next++;
        ids[i] = await api.register(names[i]!);
      }
    }),
  );
  return ids;
}

/** `"async": true` batch: asserts 202 + Location, returns the job id. */
export async function startJob(api: Api, ids: readonly number[], force = false, modelName?: string): Promise<number> {
  const r = await api.post(BATCH, {
    face_crop_ids: ids,
    async: true,
    force_regenerate: force,
    ...(modelName && { model_name: modelName }),
  });
  assert.equal(r.status, 202, r.text.slice(0, 300));
  const body = r.json as JobBody;
  assert.equal(r.headers.get('location'), `${JOBS}${body.id}/`);
  assert.equal(body.status, 'queued');
  return body.id;
}

export async function getJob(api: Api, id: number): Promise<JobBody> {
  const r = await api.get(`${JOBS}${id}/`);
  assert.equal(r.status, 200, r.text.slice(0, 300));
  return r.json as JobBody;
}

/** Polls the job every 50 ms until `check` holds; fails after timeoutMs. */
export async function waitJob(
  api: Api,
  id: number,
  check: (j: JobBody) => boolean,
  timeoutMs = 120_000,
): Promise<JobBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await getJob(api, id);
    if (check(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} ${JSON.stringify(job.progress)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The job's items by status, straight from the database. */
export async function itemStatuses(db: Database, jobId: number): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('job_items')
    .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('job_id', '=', jobId)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Item counts per node (host:pid) that finished them. */
export async function itemsByNode(db: Database, jobId: number): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('job_items')
    .select(['node', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('job_id', '=', jobId)
    .groupBy('node')
    .execute();
  return new Map(rows.map((r) => [r.node ?? '', Number(r.n)]));
}

/** Nodes that hold a running item of the job right now. */
export async function runningNodes(db: Database, jobId: number): Promise<Set<string>> {
  const rows = await db
    .selectFrom('job_items')
    .select('node')
    .where('job_id', '=', jobId)
    .where('status', '=', 'running')
    .execute();
  return new Set(rows.map((r) => r.node ?? ''));
}

/** Model name and version the server stores, learnt from one reference crop embedded synchronously. */
export async function referenceModel(
  ws: Workspace,
  api: Api,
): Promise<{ modelName: string; modelVersion: string; dimensions: number }> {
  await writeMedia(ws.mediaRoot, 'reference.jpg', await smallFace(1));
  const id = await api.register('reference.jpg');
  const r = await api.post(generatePath(id), { model_name: 'facenet' });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  const body = r.json as { model_version: string; dimensions: number };
  return { modelName: 'faceapi-resnet128', modelVersion: body.model_version, dimensions: body.dimensions };
}

/** Stored embedding rows (any model) of the given crops. */
export async function storedRows(db: Database, cropIds: readonly number[]): Promise<number> {
  const { n } = await db
    .selectFrom('face_embeddings')
    .where('face_crop_id', 'in', [...cropIds])
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

export interface CancelledState {
  job: JobBody;
  items: Record<string, number>;
  rows: number;
}

/**
 * DELETE on a running job: it answers `cancelling` (items in flight) or `cancelled`; the job
 * then reads `cancelled` within `timeoutMs`.
 */
export async function cancelJob(api: Api, jobId: number): Promise<string> {
  const r = await api.call('DELETE', `${JOBS}${jobId}/`);
  assert.equal(r.status, 200, r.text);
  const status = (r.json as { status: string }).status;
  assert.ok(status === 'cancelling' || status === 'cancelled', `DELETE answered ${status}`);
  return status;
}

/**
 * Once the job reads `cancelled`: its progress, its items and the crops' stored rows, read at
 * once and again after `settleMs` (longer than any slice in flight takes); the two must match.
 * A row for every finished item; with `crashed` (a process died mid-slice) also rows of items
 * whose outcome it never recorded.
 */
export async function frozenAfterCancel(
  api: Api,
  db: Database,
  jobId: number,
  cropIds: readonly number[],
  opts: { crashed?: boolean; settleMs?: number } = {},
): Promise<CancelledState> {
  const settleMs = opts.settleMs ?? 3000;
  const job = await waitJob(api, jobId, (j) => j.status === 'cancelled', 60_000);
  const read = async () => ({ items: await itemStatuses(db, jobId), rows: await storedRows(db, cropIds) });
  const first = { job, ...(await read()) };
  await new Promise((r) => setTimeout(r, settleMs));
  const later = await getJob(api, jobId);
  const again = await read();
  assert.deepEqual(
    { status: later.status, progress: later.progress, ...again },
    { status: 'cancelled', progress: first.job.progress, items: first.items, rows: first.rows },
    `a cancelled job changed ${settleMs} ms later`,
  );
  assert.equal(first.items.running ?? 0, 0, 'no item left running');
  if (opts.crashed) assert.ok(first.rows >= job.progress.done, 'a row for every finished item');
  else assert.equal(first.rows, job.progress.done, 'a row for every finished item and none for the others');
  return first;
}
