import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { databaseKind, openDatabase, pingDatabase, redact } from '../../src/repositories/database.js';
import { migrate } from '../../src/repositories/migrate.js';
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
