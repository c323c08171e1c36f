// The answer of an ended job, read back from its item rows: generate-embeddings the batch
// result shape (crop id order), enrol one entry per photo (photo order), session-photo and purge
// the answer the run stored, or the typed error of its failure. Items that never started are
// left out.
import type { ErrorDetails, ErrorType } from '../errors.js';
import type { JobItem } from '../repositories/job-rows.js';
import type { BatchResult } from './crop-embedding.service.js';
import type { ModelNames } from './model-names.js';
import type { PurgeReport } from './retention.service.js';
import type { PhotoResult } from './session-view.js';

export interface EnrolmentItem {
  itemId: number;
  /** Relative to the media root. */
  imagePath: string;
  personId: number;
  status: 'enrolled' | 'existing' | 'failed';
  /** The face crop enrolled, or the one that already held these bytes. */
  faceCropId?: number;
  /** details: as the synchronous call's error body has them (a refused photo's `reason`). */
  error?: ItemError;
}

export interface EnrolmentResult {
  results: EnrolmentItem[];
  summary: Record<EnrolmentItem['status'], number>;
}

/** A session-photo job that failed: the typed error, as the synchronous upload would answer it. */
export interface JobFailure {
  error: ItemError;
}

export interface ItemError {
  type: ErrorType;
  message: string;
  details?: ErrorDetails;
}

const itemError = (i: Pick<JobItem, 'errorType' | 'errorMessage' | 'errorDetails'>): ItemError => ({
  type: (i.errorType ?? 'InternalError') as ErrorType,
  message: i.errorMessage ?? '',
  ...(i.errorDetails && { details: i.errorDetails }),
});

/** generate-embeddings: one entry per crop, under the naming rule of the name the job was asked with. */
export function batchResult(items: readonly JobItem[], names: ModelNames): BatchResult {
  const results: BatchResult['results'] = [];
  const summary = { generated: 0, existing: 0, failed: 0 };
  for (const i of items) {
    if (i.status !== 'generated' && i.status !== 'existing' && i.status !== 'failed') continue; // never started
    summary[i.status]++;
    results.push({
      faceCropId: i.itemId,
      status: i.status,
      ...(i.status === 'failed' && { error: itemError(i) }),
    });
  }
  return { ...names, results, summary };
}

/** session-photo and purge: the stored answer; a failure's typed error; nothing for one cancelled before it ran. */
export function storedResult(items: readonly JobItem[]): PhotoResult | PurgeReport | JobFailure | undefined {
  const item = items[0];
  if (item?.status === 'failed') return { error: itemError(item) };
  return item?.result ? (JSON.parse(item.result) as PhotoResult | PurgeReport) : undefined;
}

export function enrolmentResult(items: readonly JobItem[]): EnrolmentResult {
  const results: EnrolmentItem[] = [];
  const summary = { enrolled: 0, existing: 0, failed: 0 };
  for (const i of items) {
    if (i.status !== 'enrolled' && i.status !== 'existing' && i.status !== 'failed') continue; // never started
    summary[i.status]++;
    results.push({
      itemId: i.itemId,
      imagePath: i.imagePath ?? '',
      personId: i.personId ?? 0,
      status: i.status,
      ...(i.enrolledFaceCropId !== null && { faceCropId: i.enrolledFaceCropId }),
      ...(i.status === 'failed' && { error: itemError(i) }),
    });
  }
  return { results, summary };
}
