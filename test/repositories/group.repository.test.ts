import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GroupRepository } from '../../src/repositories/group.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { DB_TARGETS, type OpenedDb } from './db-targets.js';

for (const target of DB_TARGETS) {
  describe(`GroupRepository (${target.name})`, { skip: target.skip }, () => {
    let opened: OpenedDb;
    let repo: GroupRepository;
    let persons: PersonRepository;
    let ids: number[];
    before(async () => {
      opened = await target.open();
      repo = new GroupRepository(opened.db);
      persons = new PersonRepository(opened.db);
      ids = [];
      for (let i = 0; i < 4; i++) ids.push((await persons.create({ name: `p${i}` })).id);
    });
    after(() => opened?.close());

    test('create, find by id / external_id / name, update; a taken external_id is a ConflictError', async () => {
      const g = await repo.create({ name: 'Class 3b', externalId: 'C-3B' });
      assert.deepEqual(
        { ...g, id: 0, createdAt: '' },
        { id: 0, name: 'Class 3b', externalId: 'C-3B', memberCount: 0, createdAt: '' },
      );
      assert.deepEqual(await repo.findByKey('C-3B'), g);
      assert.deepEqual(await repo.findByKey('Class 3b'), g);
      assert.equal(await repo.findByKey('nope'), undefined);
      await assert.rejects(repo.create({ name: 'x', externalId: 'C-3B' }), { type: 'ConflictError' });
      assert.deepEqual(await repo.update(g.id, { name: '3B' }), { ...g, name: '3B' });
    });

    test('members: add keeps duplicates once, replace sets the roster, remove drops one', async () => {
      const g = await repo.create({ name: 'm' });
      await repo.addMembers(g.id, [ids[0]!, ids[1]!, ids[1]!]);
      await repo.addMembers(g.id, [ids[1]!, ids[2]!]);
      assert.deepEqual(await repo.memberIds(g.id), ids.slice(0, 3));
      assert.equal((await repo.findById(g.id))?.memberCount, 3);
      await repo.replaceMembers(g.id, [ids[3]!, ids[0]!]);
      assert.deepEqual(await repo.memberIds(g.id), [ids[0]!, ids[3]!]);
      assert.equal(await repo.removeMember(g.id, ids[0]!), true);
      assert.equal(await repo.removeMember(g.id, ids[0]!), false);
      assert.deepEqual(await repo.memberIds(g.id), [ids[3]!]);
      await repo.replaceMembers(g.id, []);
      assert.deepEqual(await repo.memberIds(g.id), []);
      assert.deepEqual((await persons.list({ offset: 0, limit: 10, groupId: g.id })).count, 0);
    });

    test('an unknown person id is a ValidationError naming it, and nothing is written', async () => {
      const g = await repo.create({ name: 'v' });
      await repo.addMembers(g.id, [ids[0]!]);
      await assert.rejects(repo.replaceMembers(g.id, [ids[1]!, 999_999]), (e: Error & { type?: string }) => {
        assert.equal(e.type, 'ValidationError');
        assert.match(e.message, /999999/);
        return true;
      });
      await assert.rejects(repo.addMembers(g.id, [ids[2]!, 999_998]), { type: 'ValidationError' });
      assert.deepEqual(await repo.memberIds(g.id), [ids[0]!]);
    });

    test('deleting a person or the group removes memberships', async () => {
      const g = await repo.create({ name: 'd' });
      const p = await persons.create({ name: 'leaves' });
      await repo.addMembers(g.id, [p.id, ids[0]!]);
      assert.deepEqual((await persons.list({ offset: 0, limit: 10, groupId: g.id })).count, 2);
      await persons.delete(p.id);
      assert.deepEqual(await repo.memberIds(g.id), [ids[0]!]);
      assert.equal((await repo.delete(g.id))?.id, g.id);
      assert.equal(await repo.findById(g.id), undefined);
      assert.deepEqual(await repo.memberIds(g.id), []);
      const list = await repo.list({ offset: 0, limit: 100 });
      assert.equal(list.groups.length, list.count);
    });
  });
}
