// Person rows with their enrolment-face counts. A taken external_id is a ConflictError.
import type { Selectable } from 'kysely';
import { ConflictError, ValidationError } from '../errors.js';
import { isUniqueViolation } from './constraint-errors.js';
import type { ConsentStatus, Database, PersonTable } from './database.js';
import { toIso } from './face-crop.repository.js';

export type Metadata = Record<string, unknown>;

/** The person's (or their guardian's) decision on biometric processing, as recorded. */
export interface Consent {
  status: ConsentStatus;
  by: string | null;
  /** ISO 8601, UTC; null while never recorded. */
  at: string | null;
  basis: string | null;
}

export interface Person {
  id: number;
  name: string;
  externalId: string | null;
  metadata: Metadata;
  /** Face crops linked to the person (enrolment faces). */
  faceCount: number;
  /** ISO 8601, UTC. */
  createdAt: string;
  consent: Consent;
}

export interface NewPerson {
  name: string;
  externalId?: string | null;
  metadata?: Metadata;
}

export type PersonPatch = Partial<NewPerson>;

export interface CreatePersonOptions {
  /** Also put the person on this group's roster, in the same transaction. */
  groupId?: number;
}

export interface ListPersonsOptions {
  offset: number;
  limit: number;
  /** Only members of this group. */
  groupId?: number;
  /** Only members of any of these groups (a scoped key's groups). */
  groupIds?: readonly number[];
  externalId?: string;
}

type Row = Selectable<PersonTable> & { face_count: number | string | bigint | null };

const parseMetadata = (text: string): Metadata => {
  const value: unknown = JSON.parse(text);
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Metadata) : {};
};

const toPerson = (row: Row): Person => ({
  id: Number(row.id),
  name: row.name,
  externalId: row.external_id,
  metadata: parseMetadata(row.metadata),
  faceCount: Number(row.face_count ?? 0),
  createdAt: toIso(row.created_at),
  consent: {
    status: row.consent_status,
    by: row.consent_by,
    at: row.consent_at === null ? null : toIso(row.consent_at),
    basis: row.consent_basis,
  },
});

const conflict = (externalId: string | null | undefined) =>
  new ConflictError(`A person with external_id "${externalId}" already exists`, { external_id: externalId });

export class PersonRepository {
  constructor(private readonly db: Database) {}

  private select() {
    return this.db
      .selectFrom('persons as p')
      .selectAll('p')
      .select((eb) =>
        eb
          .selectFrom('face_crops as f')
          .whereRef('f.person_id', '=', 'p.id')
          .select((e) => e.fn.countAll<number | string | bigint>().as('n'))
          .as('face_count'),
      );
  }

  async create(person: NewPerson, opts: CreatePersonOptions = {}): Promise<Person> {
    try {
      // Inside a caller's transaction (AttendanceStore) the insert joins it.
      const inTransaction = <T>(fn: (trx: Database) => Promise<T>): Promise<T> =>
        this.db.isTransaction ? fn(this.db) : this.db.transaction().execute(fn);
      const id = await inTransaction(async (trx) => {
        const { groupId } = opts;
        if (groupId !== undefined) {
          const group = await trx.selectFrom('groups').select('id').where('id', '=', groupId).executeTakeFirst();
          if (!group) throw new ValidationError(`Group ${groupId} does not exist`, { group_id: groupId });
        }
        const { id } = await trx
          .insertInto('persons')
          .values({
            name: person.name,
            external_id: person.externalId ?? null,
            metadata: JSON.stringify(person.metadata ?? {}),
            created_at: new Date().toISOString(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        if (groupId !== undefined)
          await trx
            .insertInto('group_members')
            .values({ group_id: groupId, person_id: Number(id) })
            .execute();
        return Number(id);
      });
      return (await this.findById(id))!;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(person.externalId);
      throw err;
    }
  }

  async findById(id: number): Promise<Person | undefined> {
    const row = await this.select().where('p.id', '=', id).executeTakeFirst();
    return row && toPerson(row);
  }

  async findByExternalId(externalId: string): Promise<Person | undefined> {
    const row = await this.select().where('p.external_id', '=', externalId).executeTakeFirst();
    return row && toPerson(row);
  }

  /** Rows for the ids that exist, in no particular order. */
  async findByIds(ids: readonly number[]): Promise<Person[]> {
    if (ids.length === 0) return [];
    const rows = await this.select()
      .where('p.id', 'in', [...new Set(ids)])
      .execute();
    return rows.map(toPerson);
  }

  /** The ids among `ids` that name no person. */
  async missingIds(ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('persons')
      .select('id')
      .where('id', 'in', [...ids])
      .execute();
    const found = new Set(rows.map((r) => Number(r.id)));
    return [...new Set(ids)].filter((id) => !found.has(id));
  }

  /** The person with this external_id, created (name = external_id) when there is none. */
  async findOrCreateByExternalId(externalId: string, name = externalId): Promise<Person> {
    const found = await this.findByExternalId(externalId);
    if (found) return found;
    try {
      return await this.create({ name, externalId });
    } catch (err) {
      // Created meanwhile by someone else: theirs is as good as ours.
      if (err instanceof ConflictError) return (await this.findByExternalId(externalId))!;
      throw err;
    }
  }

  async list(opts: ListPersonsOptions): Promise<{ count: number; persons: Person[] }> {
    const base = this.db
      .selectFrom('persons as p')
      .$if(opts.groupId !== undefined, (qb) =>
        qb.where('p.id', 'in', (eb) =>
          eb
            .selectFrom('group_members')
            .select('person_id')
            .where('group_id', '=', opts.groupId ?? 0),
        ),
      )
      .$if(opts.groupIds !== undefined, (qb) =>
        qb.where('p.id', 'in', (eb) =>
          eb
            .selectFrom('group_members')
            .select('person_id')
            .where('group_id', 'in', [...(opts.groupIds ?? []), 0]),
        ),
      )
      .$if(opts.externalId !== undefined, (qb) => qb.where('p.external_id', '=', opts.externalId ?? ''));
    const [total, ids] = await Promise.all([
      base.select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow(),
      base.select('p.id').orderBy('p.id').limit(opts.limit).offset(opts.offset).execute(),
    ]);
    const idList = ids.map((r) => Number(r.id));
    const rows = idList.length ? await this.select().where('p.id', 'in', idList).orderBy('p.id').execute() : [];
    return { count: Number(total.n), persons: rows.map(toPerson) };
  }

  async update(id: number, patch: PersonPatch): Promise<Person | undefined> {
    const values = {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.externalId !== undefined && { external_id: patch.externalId }),
      ...(patch.metadata !== undefined && { metadata: JSON.stringify(patch.metadata) }),
    };
    if (Object.keys(values).length > 0) {
      try {
        await this.db.updateTable('persons').set(values).where('id', '=', id).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(patch.externalId);
        throw err;
      }
    }
    return this.findById(id);
  }

  /** Records a consent decision; the person after it, or undefined when there is none. */
  async setConsent(id: number, consent: Omit<Consent, 'at'>): Promise<Person | undefined> {
    await this.db
      .updateTable('persons')
      .set({
        consent_status: consent.status,
        consent_by: consent.by,
        consent_basis: consent.basis,
        consent_at: new Date().toISOString(),
      })
      .where('id', '=', id)
      .execute();
    return this.findById(id);
  }

  /** Deletes the person; their face crops stay, unlinked (ON DELETE SET NULL). */
  async delete(id: number): Promise<Person | undefined> {
    const person = await this.findById(id);
    if (!person) return undefined;
    await this.db.deleteFrom('persons').where('id', '=', id).execute();
    return person;
  }
}
