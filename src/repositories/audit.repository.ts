// The audit trail: append-only, queryable by session and person.
import type { Selectable } from 'kysely';
import type { AuditEventTable, Database } from './database.js';
import { toIso } from './face-crop.repository.js';

export interface AuditEvent {
  id: number;
  at: string;
  actor: string;
  action: string;
  sessionId: number | null;
  personId: number | null;
  personName: string | null;
  faceCropId: number | null;
  before: unknown;
  after: unknown;
  note: string | null;
}

export type NewAuditEvent = Omit<AuditEvent, 'id' | 'at'>;

const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

const toEvent = (r: Selectable<AuditEventTable>): AuditEvent => ({
  id: Number(r.id),
  at: toIso(r.at),
  actor: r.actor,
  action: r.action,
  sessionId: r.session_id === null ? null : Number(r.session_id),
  personId: r.person_id === null ? null : Number(r.person_id),
  personName: r.person_name,
  faceCropId: r.face_crop_id === null ? null : Number(r.face_crop_id),
  before: parse(r.before),
  after: parse(r.after),
  note: r.note,
});

export interface ListAuditOptions {
  offset: number;
  limit: number;
  sessionId?: number;
  personId?: number;
  /** Only events of these groups' sessions (a scoped key's groups). */
  groupIds?: readonly number[];
}

export class AuditRepository {
  constructor(private readonly db: Database) {}

  /** One multi-row insert. */
  async append(events: readonly NewAuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const at = new Date().toISOString();
    await this.db
      .insertInto('audit_events')
      .values(
        events.map((e) => ({
          at,
          actor: e.actor,
          action: e.action,
          session_id: e.sessionId,
          person_id: e.personId,
          person_name: e.personName,
          face_crop_id: e.faceCropId,
          before: e.before === null || e.before === undefined ? null : JSON.stringify(e.before),
          after: e.after === null || e.after === undefined ? null : JSON.stringify(e.after),
          note: e.note,
        })),
      )
      .execute();
  }

  /** Oldest first. */
  async list(opts: ListAuditOptions): Promise<{ count: number; events: AuditEvent[] }> {
    const base = this.db
      .selectFrom('audit_events')
      .$if(opts.sessionId !== undefined, (qb) => qb.where('session_id', '=', opts.sessionId ?? 0))
      .$if(opts.personId !== undefined, (qb) => qb.where('person_id', '=', opts.personId ?? 0))
      .$if(opts.groupIds !== undefined, (qb) =>
        qb.where('session_id', 'in', (eb) =>
          eb
            .selectFrom('sessions')
            .select('id')
            .where('group_id', 'in', [...(opts.groupIds ?? []), 0]),
        ),
      );
    const [total, rows] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow(),
      base.selectAll().orderBy('id').limit(opts.limit).offset(opts.offset).execute(),
    ]);
    return { count: Number(total.n), events: rows.map(toEvent) };
  }
}
