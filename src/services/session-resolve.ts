// Writes shared by every session change, inside its locked transaction: the roster rows, the
// automatic re-solve over all of the session's faces (the rows and every matched face's
// answer), and the audit events that record the rows' changes.
import { thresholdForFace } from '../domain/face-threshold.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { AttendanceRow } from '../repositories/attendance.repository.js';
import type { NewAuditEvent } from '../repositories/audit.repository.js';
import type { FaceMatch } from '../repositories/session-match.repository.js';
import type { Session } from '../repositories/session.repository.js';
import type { ModelInfo } from './embedding.types.js';
import { requireModelVersion, versionsOf } from './model-version.js';
import { solveSessionFaces } from './session-matching.js';

/** The actor of automatic decisions. */
export const SYSTEM_ACTOR = 'system';

const rowState = (r: AttendanceRow) => ({
  status: r.status,
  source: r.source,
  similarity: r.similarity,
  face_crop_id: r.faceCropId,
});

export function auditEvent(
  actor: string,
  action: string,
  sessionId: number,
  extra: Partial<NewAuditEvent> = {},
): NewAuditEvent {
  return {
    actor,
    action,
    sessionId,
    personId: null,
    personName: null,
    faceCropId: null,
    before: null,
    after: null,
    note: null,
    ...extra,
  };
}

/** A row's change: before and after, the face it concerns, the note. */
export function rowEvent(
  actor: string,
  action: string,
  before: AttendanceRow,
  after: AttendanceRow,
  note: string | null,
): NewAuditEvent {
  return auditEvent(actor, action, before.sessionId, {
    personId: before.personId,
    personName: before.personName,
    faceCropId: after.faceCropId ?? before.faceCropId,
    before: rowState(before),
    after: rowState(after),
    note,
  });
}

/** Members that joined the group since the session began get an (absent) row. */
export async function syncRoster(trx: AttendanceStore, session: Session): Promise<void> {
  const { persons } = await trx.persons.list({ offset: 0, limit: 100_000, groupId: session.groupId });
  await trx.attendance.addAbsent(persons.map((p) => ({ sessionId: session.id, personId: p.id, personName: p.name })));
}

/**
 * Re-solves the automatic rows and the matched faces over all of the session's faces, each face
 * at its threshold for its width; each row's change is audited. Embeddings of another model
 * version than `model`'s are refused (ConflictError), never compared.
 */
export async function resolveSession(
  trx: AttendanceStore,
  session: Session,
  model: ModelInfo,
): Promise<{ rows: AttendanceRow[]; matches: FaceMatch[] }> {
  await syncRoster(trx, session);
  const rows = await trx.attendance.listForSession(session.id);
  const stored = await trx.attendance.sessionFaces(session.id, session.modelName);
  const memberIds = rows.map((r) => r.personId).filter((p): p is number => p !== null);
  const enrolled = await trx.attendance.galleries(memberIds, session.modelName);
  requireModelVersion(model, versionsOf([...stored, ...enrolled]));
  const faces = stored.map((f) => ({ ...f, threshold: thresholdForFace(model, f.box?.[2]) }));
  const galleries = new Map<number, Float32Array[]>();
  for (const g of enrolled) {
    if (!g.embedding) continue;
    const list = galleries.get(g.personId) ?? [];
    list.push(g.embedding);
    galleries.set(g.personId, list);
  }
  const manual = (await trx.matches.list(session.id)).filter((m) => m.source === 'manual');
  const events: NewAuditEvent[] = [];
  const changed = new Map<number, AttendanceRow>();
  const solution = solveSessionFaces({ faces, galleries, rows, manualFaces: manual, threshold: model.threshold });
  for (const d of solution.decisions) {
    const updated = await trx.attendance.update(d.row.id, d.next);
    changed.set(updated.id, updated);
    const action = d.next.status === 'present' ? 'auto-present' : 'auto-absent';
    events.push(rowEvent(SYSTEM_ACTOR, action, d.row, updated, null));
  }
  await trx.matches.replaceAuto(session.id, solution.matches);
  await trx.audit.append(events);
  const matches = [...manual, ...solution.matches.map((m) => ({ ...m, source: 'auto' as const }))];
  return { rows: rows.map((r) => changed.get(r.id) ?? r), matches };
}
