// The databases every storage and HTTP test runs against: SQLite in a temp dir always, and
// PostgreSQL when FACEEMBED_TEST_DATABASE_URL names one (each test run gets its own schema).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/repositories/database.js';
import { migrate } from '../../src/repositories/migrate.js';

export const PG_URL = process.env.FACEEMBED_TEST_DATABASE_URL;

export interface OpenedDb {
  url: string;
  db: Database;
  close(): Promise<void>;
}

export interface OpenOptions {
  migrate?: boolean;
}

export interface DbTarget {
  name: 'sqlite' | 'postgres';
  /** A reason to skip, or false. */
  skip: string | false;
  /** A fresh, empty database, migrated to the latest version unless `migrate: false`. */
  open(opts?: OpenOptions): Promise<OpenedDb>;
}

async function openSqlite(opts: OpenOptions = {}): Promise<OpenedDb> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-db-'));
  const url = `sqlite:${path.join(dir, 'sub', 'test.db')}`;
  const db = openDatabase(url);
  if (opts.migrate !== false) await migrate(db);
  return {
    url,
    db,
    async close() {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A private schema selected through the connection's search_path. */
async function openPostgres(base: string, opts: OpenOptions = {}): Promise<OpenedDb> {
  const schema = `fe_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const db = openDatabase(url.toString());
  if (opts.migrate !== false) await migrate(db);
  return {
    url: url.toString(),
    db,
    async close() {
      await db.destroy();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

export const DB_TARGETS: readonly DbTarget[] = [
  { name: 'sqlite', skip: false, open: openSqlite },
  {
    name: 'postgres',
    skip: PG_URL
      ? false
      : 'FACEEMBED_TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/faceembed_test): PostgreSQL run skipped',
    open: (opts) => openPostgres(PG_URL!, opts),
  },
];
