import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FaceCropRepository } from '../../src/repositories/face-crop.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { DB_TARGETS, type OpenedDb } from './db-targets.js';

for (const target of DB_TARGETS) {
  describe(`PersonRepository (${target.name})`, { skip: target.skip }, () => {
    let opened: OpenedDb;
    let repo: PersonRepository;
    before(async () => {
      opened = await target.open();
      repo = new PersonRepository(opened.db);
    });
    after(() => opened?.close());

    test('create stores name, external_id and metadata; face_count counts linked crops', async () => {
      const p = await repo.create({ name: 'Ada', externalId: 'S-1', metadata: { class: '3b', year: 2026 } });
      assert.ok(Number.isInteger(p.id) && p.id > 0);
      assert.deepEqual(
        { ...p, id: 0, createdAt: '' },
        {
          id: 0,
          name: 'Ada',
          externalId: 'S-1',
          metadata: { class: '3b', year: 2026 },
          faceCount: 0,
          createdAt: '',
          consent: { status: 'unknown', by: null, at: null, basis: null },
        },
      );
      assert.match(p.createdAt, /Z$/);
      const crops = new FaceCropRepository(opened.db);
      await crops.create({ imagePath: 'a.jpg', width: 1, height: 1, sha256: 'x', personId: p.id });
      await crops.create({ imagePath: 'b.jpg', width: 1, height: 1, sha256: 'y', personId: p.id });
      assert.equal((await repo.findById(p.id))?.faceCount, 2);
      assert.deepEqual(await repo.findByExternalId('S-1'), { ...p, faceCount: 2 });
      assert.equal(await repo.findById(999_999), undefined);
    });

    test('setConsent records status, by, basis and the time; none for a missing person', async () => {
      const p = await repo.create({ name: 'Consent' });
      const set = await repo.setConsent(p.id, { status: 'granted', by: 'guardian', basis: 'form 1' });
      assert.deepEqual({ ...set!.consent, at: '' }, { status: 'granted', by: 'guardian', basis: 'form 1', at: '' });
      assert.match(set!.consent.at!, /Z$/);
      assert.deepEqual((await repo.findById(p.id))!.consent, set!.consent);
      assert.equal(await repo.setConsent(999_999, { status: 'granted', by: null, basis: null }), undefined);
    });

    test('a taken external_id is a ConflictError on create and update; null may repeat', async () => {
      await repo.create({ name: 'one', externalId: 'dup' });
      await assert.rejects(repo.create({ name: 'two', externalId: 'dup' }), { type: 'ConflictError' });
      const other = await repo.create({ name: 'other', externalId: 'free' });
      await assert.rejects(repo.update(other.id, { externalId: 'dup' }), { type: 'ConflictError' });
      assert.equal((await repo.findById(other.id))?.externalId, 'free');
      await repo.create({ name: 'n1' });
      await repo.create({ name: 'n2' });
    });

    test('update changes only the given fields', async () => {
      const p = await repo.create({ name: 'Bo', externalId: 'S-2', metadata: { a: 1 } });
      const u = await repo.update(p.id, { name: 'Bob' });
      assert.deepEqual(u, { ...p, name: 'Bob' });
      const v = await repo.update(p.id, { metadata: { b: 2 }, externalId: null });
      assert.deepEqual(v, { ...p, name: 'Bob', metadata: { b: 2 }, externalId: null });
      assert.equal(await repo.update(999_999, { name: 'x' }), undefined);
    });

    test('findOrCreateByExternalId creates once', async () => {
      const a = await repo.findOrCreateByExternalId('auto-1');
      const b = await repo.findOrCreateByExternalId('auto-1');
      assert.equal(a.id, b.id);
      assert.equal(a.name, 'auto-1');
    });

    test('list pages in id order with the total; missingIds names the unknown ids', async () => {
      const all = await repo.list({ offset: 0, limit: 1000 });
      assert.ok(all.count >= 5);
      assert.equal(all.persons.length, all.count);
      const ids = all.persons.map((p) => p.id);
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => x - y),
      );
      const page = await repo.list({ offset: 1, limit: 2 });
      assert.deepEqual(
        page.persons.map((p) => p.id),
        ids.slice(1, 3),
      );
      assert.deepEqual((await repo.list({ offset: 0, limit: 10, externalId: 'S-1' })).count, 1);
      assert.deepEqual(await repo.missingIds([ids[0]!, 999_998, 999_999, 999_998]), [999_998, 999_999]);
    });

    test('delete returns the person; their crops stay, unlinked', async () => {
      const p = await repo.create({ name: 'gone' });
      const crops = new FaceCropRepository(opened.db);
      const c = await crops.create({ imagePath: 'g.jpg', width: 1, height: 1, sha256: 'g', personId: p.id });
      assert.deepEqual(await repo.delete(p.id), { ...p, faceCount: 1 });
      assert.equal(await repo.findById(p.id), undefined);
      assert.equal((await crops.findById(c.id))?.personId, null);
      assert.equal(await repo.delete(p.id), undefined);
    });
  });
}
