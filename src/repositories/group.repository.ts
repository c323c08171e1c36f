// Groups (class rosters) and their members. Member writes check every person id first and
// name the unknown ones (ValidationError), so nothing is half-written.
import type { Selectable } from 'kysely';
import { ConflictError, ValidationError } from '../errors.js';
import { isUniqueViolation } from './constraint-errors.js';
import type { Database, GroupTable } from './database.js';
import { toIso } from './face-crop.repository.js';

export interface Group {
  id: number;
  name: string;
  externalId: string | null;
  memberCount: number;
  /** ISO 8601, UTC. */
  createdAt: string;
}

export interface NewGroup {
  name: string;
  externalId?: string | null;
}

type Row = Selectable<GroupTable> & { member_count: number | string | bigint | null };

const toGroup = (row: Row): Group => ({
  id: Number(row.id),
  name: row.name,
  externalId: row.external_id,
  memberCount: Number(row.member_count ?? 0),
  createdAt: toIso(row.created_at),
});

const conflict = (externalId: string | null | undefined) =>
  new ConflictError(`A group with external_id "${externalId}" already exists`, { external_id: externalId });

export class GroupRepository {
  constructor(private readonly db: Database) {}

  private select() {
    return this.db
      .selectFrom('groups as g')
      .selectAll('g')
      .select((eb) =>
        eb
          .selectFrom('group_members as m')
          .whereRef('m.group_id', '=', 'g.id')
          .select((e) => e.fn.countAll<number | string | bigint>().as('n'))
          .as('member_count'),
      );
  }

  async create(group: NewGroup): Promise<Group> {
    try {
      const { id } = await this.db
        .insertInto('groups')
        .values({ name: group.name, external_id: group.externalId ?? null, created_at: new Date().toISOString() })
        .returning('id')
        .executeTakeFirstOrThrow();
      return (await this.findById(Number(id)))!;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(group.externalId);
      throw err;
    }
  }

  async findById(id: number): Promise<Group | undefined> {
    const row = await this.select().where('g.id', '=', id).executeTakeFirst();
    return row && toGroup(row);
  }

  /** By external_id first, then by name (the oldest group of that name). */
  async findByKey(key: string): Promise<Group | undefined> {
    const byExternal = await this.select().where('g.external_id', '=', key).executeTakeFirst();
    if (byExternal) return toGroup(byExternal);
    const byName = await this.select().where('g.name', '=', key).orderBy('g.id').executeTakeFirst();
    return byName && toGroup(byName);
  }

  /** `ids`: only these groups (an empty list: none). */
  async list(opts: {
    offset: number;
    limit: number;
    ids?: readonly number[];
  }): Promise<{ count: number; groups: Group[] }> {
    const ids = opts.ids && [...opts.ids, 0];
    const [total, rows] = await Promise.all([
      this.db
        .selectFrom('groups')
        .$if(ids !== undefined, (q) => q.where('id', 'in', ids!))
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .executeTakeFirstOrThrow(),
      this.select()
        .$if(ids !== undefined, (q) => q.where('g.id', 'in', ids!))
        .orderBy('g.id')
        .limit(opts.limit)
        .offset(opts.offset)
        .execute(),
    ]);
    return { count: Number(total.n), groups: rows.map(toGroup) };
  }

  async update(id: number, patch: Partial<NewGroup>): Promise<Group | undefined> {
    const values = {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.externalId !== undefined && { external_id: patch.externalId }),
    };
    if (Object.keys(values).length > 0) {
      try {
        await this.db.updateTable('groups').set(values).where('id', '=', id).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(patch.externalId);
        throw err;
      }
    }
    return this.findById(id);
  }

  async delete(id: number): Promise<Group | undefined> {
    const group = await this.findById(id);
    if (!group) return undefined;
    await this.db.deleteFrom('groups').where('id', '=', id).execute();
    return group;
  }

  /** Member person ids in id order. */
  async memberIds(groupId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('group_members')
      .select('person_id')
      .where('group_id', '=', groupId)
      .orderBy('person_id')
      .execute();
    return rows.map((r) => Number(r.person_id));
  }

  /** Adds the persons (already members are kept once). */
  async addMembers(groupId: number, personIds: readonly number[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await assertPersonsExist(trx, personIds);
      await insertMembers(trx, groupId, personIds);
    });
  }

  /** Adds one existing person (kept once), in the caller's transaction. */
  async addMember(groupId: number, personId: number): Promise<void> {
    await insertMembers(this.db, groupId, [personId]);
  }

  /** The roster becomes exactly `personIds`. */
  async replaceMembers(groupId: number, personIds: readonly number[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await assertPersonsExist(trx, personIds);
      await trx.deleteFrom('group_members').where('group_id', '=', groupId).execute();
      await insertMembers(trx, groupId, personIds);
    });
  }

  /** True when the person was a member. */
  async removeMember(groupId: number, personId: number): Promise<boolean> {
    const res = await this.db
      .deleteFrom('group_members')
      .where('group_id', '=', groupId)
      .where('person_id', '=', personId)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}

async function assertPersonsExist(db: Database, personIds: readonly number[]): Promise<void> {
  const ids = [...new Set(personIds)];
  if (ids.length === 0) return;
  const rows = await db.selectFrom('persons').select('id').where('id', 'in', ids).execute();
  const found = new Set(rows.map((r) => Number(r.id)));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0)
    throw new ValidationError(`Unknown person id${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`, {
      person_ids: missing,
    });
}

async function insertMembers(db: Database, groupId: number, personIds: readonly number[]): Promise<void> {
  const ids = [...new Set(personIds)];
  if (ids.length === 0) return;
  await db
    .insertInto('group_members')
    .values(ids.map((personId) => ({ group_id: groupId, person_id: personId })))
    .onConflict((oc) => oc.columns(['group_id', 'person_id']).doNothing())
    .execute();
}
