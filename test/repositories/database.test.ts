import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Migrator, sql, type Kysely } from 'kysely';
import { databaseKind, openDatabase, pingDatabase, redact } from '../../src/repositories/database.js';
import { migrate } from '../../src/repositories/migrate.js';
import { initial } from '../../src/repositories/migrations/0001-initial.js';
import { EmbeddingRepository } from '../../src/repositories/embedding.repository.js';
import { FaceCropRepository } from '../../src/repositories/face-crop.repository.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { DB_TARGETS } from './db-targets.js';

test('sqlite: relative path resolved against cwd, parent directory created, WAL and foreign keys on', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-db-'));
  try {
    const db = openDatabase('sqlite:./data/nested/x.db', { cwd: dir });
    assert.equal(databaseKind(db), 'sqlite');
    await pingDatabase(db);
    assert.ok(existsSync(path.join(dir, 'data/nested/x.db')));
    const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
    assert.equal(journal.rows[0]?.journal_mode, 'wal');
    const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
    assert.equal(fk.rows[0]?.foreign_keys, 1);
    await db.destroy();

    const other = openDatabase(`sqlite:${path.join(dir, 'y.db')}?journal_mode=delete`);
    const j2 = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(other);
    assert.equal(j2.rows[0]?.journal_mode, 'delete');
    await other.destroy();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('unsupported URLs are refused with ValidationError, passwords redacted', () => {
  assert.throws(
    () => openDatabase('mysql://root:secret@localhost/x'),
    (e: Error & { type?: string }) => {
      assert.equal(e.type, 'ValidationError');
      assert.ok(!e.message.includes('secret'), e.message);
      return true;
    },
  );
  assert.throws(() => openDatabase('sqlite:'), { name: 'ValidationError' });
  assert.throws(() => openDatabase('sqlite:x.db?journal_mode=evil'), { name: 'ValidationError' });
  assert.equal(redact('postgres://u:pw@h:5432/db'), 'postgres://u:***@h:5432/db');
});

for (const target of DB_TARGETS) {
  describe(`migrations (${target.name})`, { skip: target.skip }, () => {
    test('create both tables; a second run applies nothing', async () => {
      const opened = await target.open();
      try {
        assert.equal(databaseKind(opened.db), target.name);
        assert.deepEqual(await migrate(opened.db), []);
        const tables = (await opened.db.introspection.getTables()).map((t) => t.name).sort();
        assert.ok(tables.includes('face_crops') && tables.includes('face_embeddings'), tables.join(','));
        const emb = (await opened.db.introspection.getTables()).find((t) => t.name === 'face_embeddings')!;
        assert.deepEqual(emb.columns.map((c) => c.name).sort(), [
          'created_at',
          'dimensions',
          'embedding',
          'face_crop_id',
          'id',
          'model_name',
          'model_version',
        ]);
      } finally {
        await opened.close();
      }
    });
  });
}

for (const target of DB_TARGETS) {
  describe(`migration 0002-persons (${target.name})`, { skip: target.skip }, () => {
    test('free-text person_id values become persons; links and embeddings survive', async () => {
      const opened = await target.open({ migrate: false });
      try {
        const first = new Migrator({
          db: opened.db,
          provider: { getMigrations: async () => ({ '0001-initial': initial }) },
        });
        assert.equal((await first.migrateToLatest()).error, undefined);
        const now = new Date().toISOString();
        const legacy = opened.db as unknown as Kysely<Record<string, Record<string, unknown>>>;
        const rows = ['emp-7', 'emp-7', 'emp-9', null].map((person, i) => ({
          image_path: `f${i}.jpg`,
          width: 10,
          height: 10,
          sha256: `s${i}`,
          person_id: person,
          label: null,
          created_at: now,
        }));
        const inserted = await legacy.insertInto('face_crops').values(rows).returning('id').execute();
        const cropIds = inserted.map((r) => Number(r.id));
        await legacy
          .insertInto('face_embeddings')
          .values({
            face_crop_id: cropIds[0],
            model_name: 'm',
            model_version: 'v',
            dimensions: 1,
            embedding: Buffer.alloc(4),
            created_at: now,
          })
          .execute();

        assert.deepEqual((await migrate(opened.db)).slice(0, 1), ['0002-persons']);
        const persons = new PersonRepository(opened.db);
        const e7 = await persons.findByExternalId('emp-7');
        const e9 = await persons.findByExternalId('emp-9');
        assert.equal(e7?.name, 'emp-7');
        assert.equal(e7?.faceCount, 2);
        assert.equal(e9?.faceCount, 1);
        assert.equal((await persons.list({ offset: 0, limit: 10 })).count, 2);
        const crops = await new FaceCropRepository(opened.db).findByIds(cropIds);
        const byId = new Map(crops.map((c) => [c.id, c]));
        assert.deepEqual(
          cropIds.map((id) => byId.get(id)?.personId),
          [e7!.id, e7!.id, e9!.id, null],
        );
        assert.equal(await new EmbeddingRepository(opened.db).count(cropIds[0]!), 1);
        // The new column is a real foreign key.
        await assert.rejects(new FaceCropRepository(opened.db).setPerson(cropIds[3]!, 999_999));
      } finally {
        await opened.close();
      }
    });
  });
}
