// What a job and its items are, and how their rows read: the types, the status sets every
// statement guards on, and the row mapping that the job and item statements share.
import type { Selectable } from 'kysely';
import type { JobItemTable, JobTable } from './database.js';
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
export const WORKING_JOB: readonly JobStatus[] = ['running', 'cancelling'];
export const OPEN_ITEM: readonly ItemStatus[] = ['pending', 'running'];
/** Finished without error. */
export const DONE_ITEM: readonly ItemStatus[] = ['generated', 'existing', 'enrolled', 'stored', 'purged'];

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
export const INSERT_CHUNK = 1000;
/** Ids per IN (...) list. */
export const IN_CHUNK = 500;

export const ITEM_COLUMNS = [
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

export const toJob = (r: Selectable<JobTable>): Job => ({
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

export const toItem = (r: Pick<Selectable<JobItemTable>, (typeof ITEM_COLUMNS)[number]>): JobItem => ({
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

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
