// `faceembed enrol DIR --job` through the bin, on both engines: the embedded one (the command's
// own process runs the job, SQLite), and BullMQ on the real Redis with a `faceembed worker-node`
// process doing the work while the command only watches. Persons come from the folder names,
// re-running adds only what is new, and a job cut off after a photo was enrolled (and before its
// item was recorded, with one of its embeddings not yet written) resumes without a second copy.
// A job's refused photos are listed with their reasons, on SQLite and PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ModelRegistry } from '../../src/models/registry.js';
import { specVersion } from '../../src/models/prepare.js';
import { resolveSource } from '../../src/models/sources.js';
import { openDatabase, type Database } from '../../src/repositories/database.js';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';
import { portrait, sideBySide } from '../helpers/composed-faces.js';
import { ServerProcess } from '../fault/helpers/server.js';
import { BIN, REPO } from '../helpers/paths.js';
import { TEST_QUEUE_URL as QUEUE_URL, dropKeys, redisSkip } from '../helpers/redis-keys.js';

const exec = promisify(execFile);
const MODELS_DIR = path.join(REPO, 'data/models');
/** Every registered model embeds each enrolment face. */
const MODELS = new ModelRegistry().specs.length;
/** The FACEEMBED_* settings of the caller stay out of the commands under test. */
const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEEMBED_')));

interface Summary {
  job: number;
  status: string;
  persons: number;
  enrolled: number;
  skipped: number;
  failed: number;
  group?: { id: number; name: string };
  refused: number;
  failures: { file: string; type: string; message: string; reason?: string }[];
}

/** Runs the bin with only these FACEEMBED_* settings; stdout split into the job line and the summary. */
async function enrol(args: string[], env: Record<string, string>) {
  const { code, stdout, stderr } = await exec(BIN, ['enrol', ...args], {
    cwd: REPO,
    env: { ...inherited, ...env },
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  const [first = '', ...rest] = stdout.split('\n');
  try {
    const started = JSON.parse(first) as { job: number; engine: string; photos: number; persons: number };
    return { code, stderr, started, summary: JSON.parse(rest.join('\n')) as Summary };
  } catch {
    throw new Error(`faceembed enrol exited ${code} without its summary:\n${stdout}\n${stderr.slice(-2000)}`);
  }
}

/** people/alice/{a1,a2}.jpg, people/bob/{b1.jpg,broken.jpg}: three faces and a file that is no image. */
async function people(dir: string): Promise<string> {
  const root = path.join(dir, 'people');
  await mkdir(path.join(root, 'alice'), { recursive: true });
  await mkdir(path.join(root, 'bob'), { recursive: true });
  await writeFile(path.join(root, 'alice/a1.jpg'), await portrait('a'));
  await writeFile(path.join(root, 'alice/a2.jpg'), await portrait('a', { blur: 0.6 }));
  await writeFile(path.join(root, 'bob/b1.jpg'), await portrait('b'));
  await writeFile(path.join(root, 'bob/broken.jpg'), 'not an image\n');
  return root;
}

async function counts(db: Database) {
  const persons = await db.selectFrom('persons').select(['id', 'external_id']).orderBy('external_id').execute();
  const crops = await db
    .selectFrom('face_crops')
    .select(['id', 'person_id'])
    .where('person_id', 'is not', null)
    .execute();
  const { n } = await db
    .selectFrom('face_embeddings')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return { persons: persons.map((p) => p.external_id), crops: crops.length, embeddings: Number(n) };
}

function expectFirstRun(summary: Summary, group = true): void {
  assert.equal(summary.status, 'completed');
  assert.deepEqual(
    [summary.persons, summary.enrolled, summary.skipped, summary.failed],
    [2, 3, 0, 1],
    JSON.stringify(summary),
  );
  assert.deepEqual(
    summary.failures.map((f) => [f.file, f.type]),
    [['bob/broken.jpg', 'ImageDecodeError']],
  );
  if (group) assert.equal(summary.group?.name, 'class-a');
}

describe('enrol --job, embedded engine (SQLite)', () => {
  let dir: string;
  let db: Database;
  let env: Record<string, string>;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-enrol-job-'));
    env = {
      FACEEMBED_DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
      FACEEMBED_MEDIA_ROOT: path.join(dir, 'media'),
      FACEEMBED_MODELS_DIR: MODELS_DIR,
      FACEEMBED_WORKERS: '1',
    };
  });
  after(async () => {
    await db?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  test('persons from the folders, photos enrolled by the job, a failed photo named; watchable', async () => {
    const root = await people(dir);
    const { code, started, summary } = await enrol([root, '--group', 'class-a', '--job'], env);
    assert.equal(code, 1, 'one photo failed');
    assert.deepEqual([started.engine, started.photos, started.persons], ['embedded', 4, 2]);
    assert.equal(summary.job, started.job);
    expectFirstRun(summary);
    db = openDatabase(env.FACEEMBED_DATABASE_URL!);
    assert.deepEqual(await counts(db), { persons: ['alice', 'bob'], crops: 3, embeddings: 3 * MODELS });
    const members = await db.selectFrom('group_members').select('person_id').execute();
    assert.equal(members.length, 2);
    // The photos came from outside the media root: copied in, where every node can read them.
    const copies = await readdir(path.join(dir, 'media/imports/people'), { recursive: true });
    assert.ok(copies.includes(path.join('alice', 'a1.jpg')), copies.join(','));

    const watched = await exec(BIN, ['jobs', 'watch', String(started.job)], {
      cwd: REPO,
      env: { ...inherited, ...env },
    }).catch((e: { code: number; stdout: string }) => e);
    assert.deepEqual(JSON.parse(watched.stdout.trim()), {
      id: started.job,
      status: 'completed',
      progress: { total: 4, done: 3, failed: 1 },
    });
  });

  test('reembed --model arcface --job: a stale vector is computed again, current ones are left', async () => {
    const stale = (await db.selectFrom('face_crops').select('id').orderBy('id').executeTakeFirstOrThrow()).id;
    await db
      .updateTable('face_embeddings')
      .set({ model_version: 'older-weights' })
      .where('face_crop_id', '=', stale)
      .where('model_name', '=', 'faceplugin-mobilefacenet512')
      .execute();
    const run = await exec(BIN, ['reembed', '--model', 'arcface', '--job'], {
      cwd: REPO,
      env: { ...inherited, ...env },
    });
    const [started, ended] = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual([started.engine, started.model, started.items], ['embedded', 'faceplugin-mobilefacenet512', 3]);
    assert.deepEqual([ended.status, ended.progress.failed], ['completed', 0]);
    const version = specVersion(
      new ModelRegistry().get('faceplugin-mobilefacenet512'),
      (await resolveSource('faceplugin-mobilefacenet512')).version,
    );
    const rows = await db
      .selectFrom('face_embeddings')
      .select(['model_version'])
      .where('model_name', '=', 'faceplugin-mobilefacenet512')
      .execute();
    assert.deepEqual(
      rows.map((r) => r.model_version),
      [version, version, version],
    );
    const items = await db
      .selectFrom('job_items')
      .select(['item_id', 'status'])
      .where('job_id', '=', started.job)
      .execute();
    assert.deepEqual(items.map((i) => [i.item_id === stale, i.status]).sort(), [
      [false, 'existing'],
      [false, 'existing'],
      [true, 'generated'],
    ]);
  });

  test('a re-run adds nothing; a job cut off after enrolling a photo resumes without a second copy', async () => {
    const first = (await db.selectFrom('jobs').select('id').orderBy('id').executeTakeFirstOrThrow()).id;
    // The state a kill -9 leaves: alice/a1 enrolled (its crop stored, one model's embedding not yet
    // written), its item still running, the job running.
    const item = await db
      .selectFrom('job_items')
      .selectAll()
      .where('job_id', '=', first)
      .where('image_path', 'like', '%alice/a1.jpg')
      .executeTakeFirstOrThrow();
    const crop = item.enrolled_face_crop_id!;
    await db
      .deleteFrom('face_embeddings')
      .where('face_crop_id', '=', crop)
      .where('model_name', '=', 'hse-faceres')
      .execute();
    await db
      .updateTable('job_items')
      .set({ status: 'running', enrolled_face_crop_id: null, finished_at: null })
      .where('job_id', '=', first)
      .where('item_id', '=', item.item_id)
      .execute();
    await db.updateTable('jobs').set({ status: 'running', finished_at: null }).where('id', '=', first).execute();

    // The next run's engine resumes the cut-off job first, then runs its own.
    const { code, summary } = await enrol([path.join(dir, 'people'), '--job'], env);
    assert.equal(code, 1);
    assert.deepEqual([summary.persons, summary.enrolled, summary.skipped, summary.failed], [2, 0, 3, 1]);
    const resumed = await db.selectFrom('jobs').select('status').where('id', '=', first).executeTakeFirstOrThrow();
    assert.equal(resumed.status, 'completed');
    const again = await db
      .selectFrom('job_items')
      .select(['status', 'enrolled_face_crop_id'])
      .where('job_id', '=', first)
      .where('item_id', '=', item.item_id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(again, { status: 'existing', enrolled_face_crop_id: crop });
    assert.deepEqual(
      await counts(db),
      { persons: ['alice', 'bob'], crops: 3, embeddings: 3 * MODELS },
      'no second crop; the missing embedding written',
    );
  });

  test('without --job, the same rule: what the persons already have is skipped; a refused photo is listed with its reason', async () => {
    await writeFile(path.join(dir, 'people/bob/b2.jpg'), await portrait('d'));
    // Two people side by side: which one is bob? Refused, nothing stored.
    await writeFile(path.join(dir, 'people/bob/group.jpg'), await sideBySide('b', 'c'));
    const run = await exec(BIN, ['enrol', path.join(dir, 'people')], {
      cwd: REPO,
      env: { ...inherited, ...env },
    }).catch((e: { code: number; stdout: string }) => e);
    const summary = JSON.parse(run.stdout) as Summary;
    assert.deepEqual(
      [summary.persons, summary.enrolled, summary.skipped, summary.failed, summary.refused],
      [2, 1, 3, 2, 1],
      run.stdout,
    );
    const refused = summary.failures.find((f) => f.file === path.join('bob', 'group.jpg'));
    assert.deepEqual([refused?.type, refused?.reason], ['ValidationError', 'several_faces'], run.stdout);
    assert.match(refused!.message, /2 plausible faces/);
    assert.equal((await counts(db)).crops, 4);
  });
});

for (const target of DB_TARGETS) {
  describe(`enrol --job lists refused photos with their reasons (${target.name})`, { skip: target.skip }, () => {
    let dir: string;
    let opened: OpenedDb;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-enrol-refused-'));
      opened = await target.open();
    });
    after(async () => {
      await opened?.close();
      await rm(dir, { recursive: true, force: true });
    });

    test("each refusal names its reason, read from the job's item; nothing stored for it", async () => {
      const carol = path.join(dir, 'people/carol');
      await mkdir(carol, { recursive: true });
      await writeFile(path.join(carol, 'c1.jpg'), await portrait('c'));
      await writeFile(path.join(carol, 'blurred.jpg'), await portrait('d', { blur: 6 }));
      await writeFile(path.join(carol, 'group.jpg'), await sideBySide('a', 'b'));
      const { code, summary } = await enrol([path.join(dir, 'people'), '--job'], {
        FACEEMBED_DATABASE_URL: opened.url,
        FACEEMBED_MEDIA_ROOT: path.join(dir, 'media'),
        FACEEMBED_MODELS_DIR: MODELS_DIR,
        FACEEMBED_WORKERS: '1',
      });
      assert.equal(code, 1, 'two photos refused');
      assert.deepEqual(
        [summary.status, summary.enrolled, summary.failed, summary.refused],
        ['completed', 1, 2, 2],
        JSON.stringify(summary),
      );
      assert.deepEqual(
        summary.failures.map((f) => [f.file, f.type, f.reason]),
        [
          [path.join('carol', 'blurred.jpg'), 'ValidationError', 'too_blurry'],
          [path.join('carol', 'group.jpg'), 'ValidationError', 'several_faces'],
        ],
      );
      assert.match(summary.failures[1]!.message, /2 plausible faces/);
      assert.equal((await counts(opened.db)).crops, 1);
    });
  });
}

const REDIS_SKIP = await redisSkip();

describe('enrol --job, BullMQ engine (real Redis, a worker node)', { skip: REDIS_SKIP }, () => {
  const prefix = `fe-enrol-test-${process.pid}`;
  let dir: string;
  let db: Database;
  let node: ServerProcess | undefined;
  let env: Record<string, string>;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-enrol-bullmq-'));
    env = {
      FACEEMBED_DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
      FACEEMBED_MEDIA_ROOT: path.join(dir, 'media'),
      FACEEMBED_MODELS_DIR: MODELS_DIR,
      FACEEMBED_WORKERS: '1',
      FACEEMBED_QUEUE_URL: QUEUE_URL,
      FACEEMBED_QUEUE_PREFIX: prefix,
    };
  });
  after(async () => {
    await node?.stop();
    await db?.destroy();
    await rm(dir, { recursive: true, force: true });
    await dropKeys(prefix);
  });

  test('the worker node enrols every photo; the command only watches', async () => {
    const root = await people(dir);
    node = await ServerProcess.startNode({
      databaseUrl: env.FACEEMBED_DATABASE_URL!,
      mediaRoot: env.FACEEMBED_MEDIA_ROOT!,
      modelsDir: MODELS_DIR,
      cwd: dir,
      env: { FACEEMBED_WORKERS: '1', FACEEMBED_QUEUE_URL: QUEUE_URL, FACEEMBED_QUEUE_PREFIX: prefix },
    });
    const { code, started, summary } = await enrol([root, '--job'], env);
    assert.equal(code, 1, 'one photo failed');
    assert.deepEqual([started.engine, started.photos, started.persons], ['bullmq', 4, 2]);
    expectFirstRun(summary, false);
    db = openDatabase(env.FACEEMBED_DATABASE_URL!);
    const nodes = await db.selectFrom('job_items').select('node').where('job_id', '=', started.job).execute();
    assert.deepEqual(
      [...new Set(nodes.map((n) => n.node?.split(':').pop()))],
      [String(node.pid)],
      'every item ran on the worker node',
    );
    assert.deepEqual(await counts(db), { persons: ['alice', 'bob'], crops: 3, embeddings: 3 * MODELS });

    const rerun = await enrol([root, '--job'], env);
    assert.deepEqual([rerun.summary.enrolled, rerun.summary.skipped, rerun.summary.failed], [0, 3, 1]);
    assert.deepEqual(await counts(db), { persons: ['alice', 'bob'], crops: 3, embeddings: 3 * MODELS });
  });
});
