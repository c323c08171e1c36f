// A class photo sent as a job (async upload): 202 at once, then its job polled until it ends.
// Polling, not a stream: a photo takes seconds, and one GET a second per photo in flight is
// cheap; the state shown (queued, running) changes at most a few times.
import { ApiError, get, upload } from '../../api/client';
import type { Job, PhotoJob, PhotoResult } from '../../api/types';

/** How often a photo's job is asked about while it is queued or running. */
export const POLL_MS = 1000;

export type PhotoState = 'uploading' | 'queued' | 'running' | 'done';

/** Uploads with `async`: answered once the photo is stored and queued. */
export function queuePhoto(sessionId: number, file: File, onProgress: (fraction: number) => void): Promise<PhotoJob> {
  return upload<PhotoJob>(`sessions/${sessionId}/photos/`, { image: file, async: 'true' }, onProgress);
}

/**
 * Follows the photo's job: `onState` hears queued and running; resolves with the faces (the
 * synchronous upload's answer), rejects with the job's typed error. `signal` stops the polling.
 */
export async function photoDone(
  jobId: number,
  onState: (state: PhotoState) => void,
  signal: AbortSignal,
): Promise<PhotoResult> {
  for (;;) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (signal.aborted) throw new ApiError(0, 'Cancelled', 'Left the page before the photo was done');
    const job = await get<Job>(`jobs/${jobId}/`);
    if (job.status === 'queued' || job.status === 'running') {
      onState(job.status);
      continue;
    }
    const result = job.result as PhotoResult | { error?: { type: string; message: string } } | undefined;
    if (job.status === 'completed' && result && 'photo_id' in result) return result;
    const error = result && 'error' in result ? result.error : undefined;
    throw new ApiError(422, error?.type ?? 'JobFailed', error?.message ?? `The photo's job ended ${job.status}`);
  }
}
