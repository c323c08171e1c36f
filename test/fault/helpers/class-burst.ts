// Shared steps of the class-photo burst fault tests: a roster enrolled over HTTP, class photos of
// the shared dataset's people (some in two photos, strangers in between), a reference session
// fed the same photos one by one, a burst of async uploads, and the checks afterwards: every
// accepted photo stored once, every face once, each session's attendance equal to the reference.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import type { Database } from '../../../src/repositories/database.js';
import { DATASET } from '../../helpers/paths.js';
import { classPhoto } from '../../http/class-photo.js';
import type { Api } from './http.js';
import { JOBS } from './jobs.js';

const SESSIONS = '/api/attendance/sessions/';
const ENROL = { ann: 'img1.jpg', bob: 'img3.jpg', cid: 'img8.jpg', dan: 'img13.jpg', eve: 'img16.jpg' };
/** ann is in photos 1 and 2, cid in 2 and 4, dan in 2 and 4: one face each over the session. */
const PHOTOS = [
  ['img2.jpg', 'img12.jpg', 'img27.jpg'],
  ['img4.jpg', 'img9.jpg', 'img14.jpg'],
  ['img53.jpg', 'img59.jpg', 'img29.jpg'],
  ['img47.jpg', 'img15.jpg', 'img26.jpg'],
];

export interface Roster {
  groupId: number;
  photos: Buffer[];
}

const ok = (r: { status: number; text: string }, status: number) =>
  assert.equal(r.status, status, r.text.slice(0, 300));

/** Five enrolled members in one group, and the class photos. */
export async function roster(api: Api): Promise<Roster> {
  const group = await api.post('/api/attendance/groups/', { name: 'rush' });
  ok(group, 201);
  const groupId = (group.json as { id: number }).id;
  const ids: number[] = [];
  for (const [name, file] of Object.entries(ENROL)) {
    const person = await api.post('/api/attendance/persons/', { name });
    ok(person, 201);
    const id = (person.json as { id: number }).id;
    ids.push(id);
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(await readFile(path.join(DATASET, file)))]), file);
    ok(await api.call('POST', `/api/attendance/persons/${id}/faces/`, { form }), 201);
  }
  ok(await api.call('PUT', `/api/attendance/groups/${groupId}/members/`, { json: { person_ids: ids } }), 200);
  return { groupId, photos: await Promise.all(PHOTOS.map((files) => classPhoto(files, 360))) };
}

export async function newSession(api: Api, groupId: number): Promise<number> {
  const r = await api.post(SESSIONS, { group_id: groupId });
  ok(r, 201);
  return (r.json as { id: number }).id;
}

export function uploadPhoto(api: Api, sessionId: number, data: Buffer, async: boolean) {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), 'class.jpg');
  if (async) form.append('async', 'true');
  return api.call('POST', `${SESSIONS}${sessionId}/photos/`, { form, timeoutMs: 120_000 });
}

/** What must not depend on the order photos finish in: each member's status and similarity. */
export async function attendance(api: Api, sessionId: number): Promise<string[]> {
  const r = await api.get(`${SESSIONS}${sessionId}/`);
  ok(r, 200);
  const s = r.json as {
    attendance: { person_id: number; status: string; similarity: number | null }[];
    summary: object;
  };
  return [
    ...s.attendance.map((a) => `${a.person_id} ${a.status} ${a.similarity?.toFixed(4) ?? '-'}`),
    JSON.stringify(s.summary),
  ];
}

/** The reference: a session fed the photos one by one, synchronously. */
export async function reference(api: Api, r: Roster): Promise<{ attendance: string[]; faces: number }> {
  const id = await newSession(api, r.groupId);
  let faces = 0;
  for (const p of r.photos) {
    const res = await uploadPhoto(api, id, p, false);
    ok(res, 201);
    faces += (res.json as { faces: unknown[] }).faces.length;
  }
  return { attendance: await attendance(api, id), faces };
}

/** Every photo of the roster to each session at once (async): the job ids, all accepted (202). */
export async function burst(api: Api, r: Roster, sessions: readonly number[]): Promise<number[]> {
  const sent = await Promise.all(sessions.flatMap((id) => r.photos.map((p) => uploadPhoto(api, id, p, true))));
  for (const res of sent) ok(res, 202);
  return sent.map((res) => (res.json as { job_id: number }).job_id);
}

export async function jobStatuses(api: Api, jobIds: readonly number[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const id of jobIds) {
    const r = await api.get(`${JOBS}${id}/`);
    ok(r, 200);
    const status = (r.json as { status: string }).status;
    out[status] = (out[status] ?? 0) + 1;
  }
  return out;
}

export async function waitJobs(
  api: Api,
  jobIds: readonly number[],
  until: (s: Record<string, number>) => boolean,
  timeoutMs: number,
): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await jobStatuses(api, jobIds).catch(() => ({}));
    if (until(s)) return s;
    if (Date.now() > deadline) throw new Error(`jobs not there within ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** Each session: as many photos as sent and the reference's faces, each stored once; the reference's attendance. */
export async function checkSessions(
  api: Api,
  db: Database,
  r: Roster,
  sessions: readonly number[],
  expected: { attendance: string[]; faces: number },
): Promise<void> {
  for (const id of sessions) {
    const { rows } = await sql<{ photos: number | string; faces: number | string; distinct_boxes: number | string }>`
      select count(distinct p.id) as photos, count(f.id) as faces,
             count(distinct (p.id || ':' || f.box)) as distinct_boxes
      from session_photos p left join face_crops f on f.source_photo_id = p.id
      where p.session_id = ${id}`.execute(db);
    const row = rows[0]!;
    assert.equal(Number(row.photos), r.photos.length, `session ${id}: one stored photo per upload`);
    assert.equal(Number(row.faces), expected.faces, `session ${id}: the reference's faces`);
    assert.equal(Number(row.distinct_boxes), expected.faces, `session ${id}: no face stored twice`);
    assert.deepEqual(await attendance(api, id), expected.attendance, `session ${id}: attendance as one by one`);
  }
}
