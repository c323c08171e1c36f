// The HTTP side of bench/rush.ts: a roster enrolled, sessions opened, class photos uploaded
// (201, or 202 and a session-photo job followed to its end), and each session's attendance.
import { readFile } from 'node:fs/promises';
import { sleep } from './common.js';

export interface Upload {
  sentAt: number;
  accepted: boolean;
  /** Sync: when the 201 arrived. */
  answeredAt: number;
  jobId?: number;
  status: number;
}

export interface Settled {
  ok: boolean;
  sentAt: number;
  /** Wall clock (ms) of the photo's result: the 201, or its job's finished_at. */
  endedAt: number;
}

const API = '/api/attendance';

/** bench:rush's section of docs/benchmarks.md (parts/doc-sections.ts). */
export const RUSH_SECTION = 'rush-bench';

export class RushClient {
  constructor(private readonly baseUrl: string) {}

  private async call<T>(method: string, url: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${API}${url}`, {
      method,
      ...(body instanceof FormData
        ? { body }
        : body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** One person per enrolment photo, all in one group; the group's id. */
  async roster(enrolPhotos: readonly string[]): Promise<number> {
    const ids: number[] = [];
    for (const [i, file] of enrolPhotos.entries()) {
      const { id } = await this.call<{ id: number }>('POST', '/persons/', { name: `member ${i}` });
      const form = new FormData();
      form.append('image', new Blob([new Uint8Array(await readFile(file))]), 'enrol.jpg');
      await this.call('POST', `/persons/${id}/faces/`, form);
      ids.push(id);
    }
    const { id } = await this.call<{ id: number }>('POST', '/groups/', { name: 'rush' });
    await this.call('PUT', `/groups/${id}/members/`, { person_ids: ids });
    return id;
  }

  async session(groupId: number): Promise<number> {
    return (await this.call<{ id: number }>('POST', '/sessions/', { group_id: groupId })).id;
  }

  async upload(sessionId: number, jpeg: Buffer, async: boolean): Promise<Upload> {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'class.jpg');
    if (async) form.append('async', 'true');
    const sentAt = Date.now();
    const res = await fetch(`${this.baseUrl}${API}/sessions/${sessionId}/photos/`, { method: 'POST', body: form });
    const body = (await res.json()) as { job_id?: number };
    const accepted = res.status === 201 || res.status === 202;
    return { sentAt, accepted, answeredAt: Date.now(), status: res.status, jobId: body.job_id };
  }

  /** Waits for the photo's result (polling its job every 200 ms). */
  async settle(u: Upload): Promise<Settled> {
    if (u.jobId === undefined) return { ok: u.status === 201, sentAt: u.sentAt, endedAt: u.answeredAt };
    for (;;) {
      const job = await this.call<{ status: string; finished_at: string | null }>('GET', `/jobs/${u.jobId}/`);
      if (job.finished_at && !['queued', 'running'].includes(job.status))
        return { ok: job.status === 'completed', sentAt: u.sentAt, endedAt: Date.parse(job.finished_at) };
      await sleep(200);
    }
  }

  /** The session's faces and its attendance as text (status and similarity per member). */
  async attendance(sessionId: number): Promise<{ faces: number; attendance: string }> {
    const s = await this.call<{
      photos: { faces: unknown[] }[];
      attendance: { name: string; status: string; similarity: number | null }[];
    }>('GET', `/sessions/${sessionId}/`);
    return {
      faces: s.photos.reduce((n, p) => n + p.faces.length, 0),
      attendance: s.attendance.map((a) => `${a.name}:${a.status}:${a.similarity?.toFixed(4) ?? '-'}`).join(' '),
    };
  }
}
