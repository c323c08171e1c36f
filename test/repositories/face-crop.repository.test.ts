import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { UNKNOWN_QUALITY } from '../../src/domain/face-quality.js';
import { FaceCropRepository } from '../../src/repositories/face-crop.repository.js';
import { EmbeddingRepository } from '../../src/repositories/embedding.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { DB_TARGETS, type OpenedDb } from './db-targets.js';

const crop = (n: number, personId: number | null = null) => ({
  imagePath: `faces/${n}.jpg`,
  width: 100 + n,
  height: 200 + n,
  sha256: String(n).padStart(64, '0'),
  personId,
  label: `label ${n}`,
});

for (const target of DB_TARGETS) {
  describe(`FaceCropRepository (${target.name})`, { skip: target.skip }, () => {
    let opened: OpenedDb;
    let repo: FaceCropRepository;
    let persons: PersonRepository;
    before(async () => {
      opened = await target.open();
      repo = new FaceCropRepository(opened.db);
      persons = new PersonRepository(opened.db);
    });
    after(() => opened?.close());

    test('create returns the stored row with an id and an ISO timestamp', async () => {
      const before = Date.now();
      const p1 = await persons.create({ name: 'P 1', externalId: 'p-1' });
      const quality = { widthPx: 30, sharpness: 12.5, yaw: -3.2, roll: 1 };
      const c = await repo.create({ ...crop(1, p1.id), box: [1, 2, 30, 40], sourcePhotoId: 7, quality });
      assert.ok(Number.isInteger(c.id) && c.id > 0);
      assert.deepEqual(
        { ...c, id: 0, createdAt: '' },
        {
          id: 0,
          imagePath: 'faces/1.jpg',
          width: 101,
          height: 201,
          sha256: crop(1).sha256,
          personId: p1.id,
          label: 'label 1',
          box: [1, 2, 30, 40],
          sourcePhotoId: 7,
          quality,
          createdAt: '',
        },
      );
      // A crop not cut from a photo has no quality.
      const plain = await repo.create(crop(90));
      assert.deepEqual(plain.quality, UNKNOWN_QUALITY);
      await repo.delete(plain.id);
      assert.match(c.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Date.parse(c.createdAt) >= before - 1000 && Date.parse(c.createdAt) <= Date.now() + 1000);
      assert.deepEqual(await repo.findById(c.id), c);
      assert.equal(await repo.findById(c.id + 1000), undefined);
    });

    test('findByIds returns only existing rows', async () => {
      const a = await repo.create(crop(2));
      const b = await repo.create(crop(3));
      const found = await repo.findByIds([b.id, a.id, 999_999]);
      assert.deepEqual(
        found.map((c) => c.id).sort((x, y) => x - y),
        [a.id, b.id],
      );
      assert.deepEqual(await repo.findByIds([]), []);
    });

    test('list pages in id order with the filtered total', async () => {
      const person = (await persons.create({ name: `list-${target.name}` })).id;
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push((await repo.create(crop(10 + i, person))).id);
      const page1 = await repo.list({ offset: 0, limit: 2, personId: person });
      const page3 = await repo.list({ offset: 4, limit: 2, personId: person });
      assert.equal(page1.count, 5);
      assert.deepEqual(
        page1.crops.map((c) => c.id),
        ids.slice(0, 2),
      );
      assert.deepEqual(
        page3.crops.map((c) => c.id),
        ids.slice(4),
      );
      const all = await repo.list({ offset: 0, limit: 1000 });
      assert.ok(all.count >= 5 + 3);
      assert.equal(all.crops.length, all.count);
    });

    test('delete returns the row and removes its embeddings (ON DELETE CASCADE)', async () => {
      const c = await repo.create(crop(20));
      const embeddings = new EmbeddingRepository(opened.db);
      await embeddings.upsert({
        faceCropId: c.id,
        modelName: 'm',
        modelVersion: 'v1',
        embedding: new Float32Array([1, 2]),
      });
      assert.equal(await embeddings.count(c.id), 1);
      assert.deepEqual(await repo.delete(c.id), c);
      assert.equal(await repo.findById(c.id), undefined);
      assert.equal(await embeddings.count(c.id), 0);
      assert.equal(await repo.delete(c.id), undefined);
    });

    test('setPerson links and unlinks; deleting the person unlinks its crops (ON DELETE SET NULL)', async () => {
      const p = await persons.create({ name: 'linked' });
      const c = await repo.create(crop(40));
      assert.equal((await repo.setPerson(c.id, p.id))?.personId, p.id);
      assert.equal((await persons.findById(p.id))?.faceCount, 1);
      assert.equal((await repo.setPerson(c.id, null))?.personId, null);
      await repo.setPerson(c.id, p.id);
      await persons.delete(p.id);
      assert.equal((await repo.findById(c.id))?.personId, null);
      await assert.rejects(repo.setPerson(c.id, 999_999));
      assert.equal(await repo.setPerson(999_999, null), undefined);
    });

    test('countByImagePath counts every crop naming a file', async () => {
      await repo.create({ ...crop(30), imagePath: 'shared/x.jpg' });
      await repo.create({ ...crop(31), imagePath: 'shared/x.jpg' });
      assert.equal(await repo.countByImagePath('shared/x.jpg'), 2);
      assert.equal(await repo.countByImagePath('shared/none.jpg'), 0);
    });
  });
}
