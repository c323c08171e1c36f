// `faceembed erase` and `faceembed purge` as a user runs them, on a SQLite database and media
// root of their own: the printed receipt or report counts what went, checked in the rows and on
// disk. (The same services run over HTTP on both databases: test/http/privacy, retention.)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/repositories/database.js';
import { encodeEmbedding } from '../../src/repositories/embedding.repository.js';
import { GroupRepository } from '../../src/repositories/group.repository.js';
import { migrate } from '../../src/repositories/migrate.js';
import { PersonRepository } from '../../src/repositories/person.repository.js';
import { SessionRepository } from '../../src/repositories/session.repository.js';
import { BIN, REPO } from '../helpers/paths.js';

const exec = promisify(execFile);
let dir: string;
let env: Record<string, string>;
let db: Database;

async function run(args: string[], extra: Record<string, string> = {}) {
  return exec(BIN, args, { cwd: REPO, env: { ...process.env, ...env, ...extra } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** A stored file under uploads/ (its bytes do not matter to erasure or purge). */
async function file(name: string): Promise<string> {
  await writeFile(path.join(dir, 'media/uploads', name), 'image bytes');
  return `uploads/${name}`;
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-privacy-cli-'));
  await mkdir(path.join(dir, 'media/uploads'), { recursive: true });
  const url = `sqlite:${path.join(dir, 'fe.db')}`;
  env = { FACEEMBED_DATABASE_URL: url, FACEEMBED_MEDIA_ROOT: path.join(dir, 'media'), FACEEMBED_LOG_LEVEL: 'warn' };
  db = openDatabase(url);
  await migrate(db);
});
after(async () => {
  await db?.destroy();
  await rm(dir, { recursive: true, force: true });
});

test('faceembed erase PERSON_ID --all: the receipt counts the rows and files that went; the name is pseudonymised', async () => {
  const person = await new PersonRepository(db).create({ name: 'Eve', externalId: 'S-7' });
  const paths = [await file('e1.jpg'), await file('e2.jpg')];
  for (const p of paths) {
    const { id } = await db
      .insertInto('face_crops')
      .values({
        image_path: p,
        width: 1,
        height: 1,
        sha256: p,
        person_id: person.id,
        created_at: new Date().toISOString(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('face_embeddings')
      .values({
        face_crop_id: Number(id),
        model_name: 'm',
        model_version: 'v',
        dimensions: 2,
        embedding: encodeEmbedding(new Float32Array([1, 0])),
        created_at: new Date().toISOString(),
      })
      .execute();
  }
  const { code, stdout, stderr } = await run(['erase', String(person.id), '--all']);
  assert.equal(code, 0, stderr);
  const receipt = JSON.parse(stdout);
  assert.deepEqual(
    { ...receipt, at: '' },
    {
      person_id: person.id,
      scope: 'all',
      removed: { face_crops: 2, embeddings: 2, files: 2, cluster_faces: 0 },
      at: '',
    },
  );
  for (const p of paths) assert.ok(!existsSync(path.join(dir, 'media', p)));
  const rows = await sql<{ n: number }>`select count(*) as n from face_crops`.execute(db);
  assert.equal(Number(rows.rows[0]!.n), 0);
  const after = await new PersonRepository(db).findById(person.id);
  assert.deepEqual([after!.name, after!.externalId], [`Erased person ${person.id}`, null]);
  const audit = await db.selectFrom('audit_events').select(['actor', 'action']).execute();
  assert.deepEqual(audit, [{ actor: 'cli', action: 'erased' }]);

  const missing = await run(['erase', '999999']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr + missing.stdout, /NotFoundError/);
});

test('faceembed purge [--dry-run]: only the photo past its time; a dry run removes nothing', async () => {
  const group = await new GroupRepository(db).create({ name: '3b' });
  const session = await new SessionRepository(db).create({ groupId: group.id, modelName: 'arcface' });
  const photos = { old: await file('old.jpg'), recent: await file('recent.jpg') };
  const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
  for (const [p, at] of [
    [photos.old, old],
    [photos.recent, new Date().toISOString()],
  ])
    await db
      .insertInto('session_photos')
      .values({ session_id: session.id, image_path: p!, width: 1, height: 1, created_at: at! })
      .execute();
  const retain = { FACEEMBED_RETAIN_PHOTOS_DAYS: '30' };

  const dry = await run(['purge', '--dry-run'], retain);
  assert.equal(dry.code, 0, dry.stderr);
  const planned = JSON.parse(dry.stdout);
  assert.equal(planned.dry_run, true);
  assert.deepEqual(planned.removed, { photos: 1, face_crops: 0, embeddings: 0, cluster_faces: 0, files: 1 });
  assert.ok(existsSync(path.join(dir, 'media', photos.old)));

  const done = await run(['purge'], retain);
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(JSON.parse(done.stdout).removed, planned.removed);
  assert.ok(!existsSync(path.join(dir, 'media', photos.old)));
  assert.ok(existsSync(path.join(dir, 'media', photos.recent)));
  const purged = await db.selectFrom('session_photos').select(['image_path', 'purged_at']).orderBy('id').execute();
  assert.deepEqual(
    purged.map((r) => [r.image_path, r.purged_at !== null]),
    [
      [photos.old, true],
      [photos.recent, false],
    ],
  );
  // Unset retention: nothing is due.
  const none = await run(['purge']);
  assert.deepEqual(JSON.parse(none.stdout).removed, {
    photos: 0,
    face_crops: 0,
    embeddings: 0,
    cluster_faces: 0,
    files: 0,
  });
});
