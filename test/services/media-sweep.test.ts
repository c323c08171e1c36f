// The media sweep and `faceembed fsck` on both databases, checked on disk: .part files and
// files no row owns go once older than the grace period; fresh ones, owned ones (a face crop, a
// class photo, a queued job's photo) and the client's own files stay. fsck reports both ways
// (orphan files, rows whose file is missing), exits 1 until both lists are empty, and --fix
// removes the orphans.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GroupRepository } from '../../src/repositories/group.repository.js';
import { MediaOwnerRepository } from '../../src/repositories/media-owner.repository.js';
import { MediaStorage } from '../../src/repositories/media-storage.js';
import { SessionRepository } from '../../src/repositories/session.repository.js';
import { MediaSweepService } from '../../src/services/media-sweep.service.js';
import { BIN } from '../helpers/paths.js';
import { DB_TARGETS, type OpenedDb } from '../repositories/db-targets.js';

const GRACE_MS = 10 * 60_000;
const OLD = (Date.now() - 2 * GRACE_MS) / 1000;

const FILES = {
  oldPart: 'uploads/.old.part',
  freshPart: 'uploads/.fresh.part',
  oldOrphan: 'uploads/orphan-old.jpg',
  freshOrphan: 'uploads/orphan-fresh.jpg',
  crop: 'uploads/crop.jpg',
  photo: 'uploads/photo.jpg',
  queued: 'uploads/queued.jpg',
  oldImport: 'imports/run/old.jpg',
  client: 'faces/client.jpg',
} as const;
const FRESH = new Set<string>([FILES.freshPart, FILES.freshOrphan]);

function fsck(opened: OpenedDb, root: string, ...args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEEMBED_')));
  const run = spawnSync(process.execPath, [BIN, 'fsck', '--json', ...args], {
    env: { ...env, FACEEMBED_DATABASE_URL: opened.url, FACEEMBED_MEDIA_ROOT: root, FACEEMBED_LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return {
    code: run.status,
    body: JSON.parse(run.stdout.trim() || 'null') as Record<string, string[]>,
    stderr: run.stderr,
  };
}

for (const target of DB_TARGETS) {
  describe(`media sweep and fsck (${target.name})`, { skip: target.skip }, () => {
    let opened: OpenedDb;
    let root: string;
    let sweeper: MediaSweepService;
    const onDisk = (rel: string) => existsSync(path.join(root, rel));

    before(async () => {
      opened = await target.open();
      root = await mkdtemp(path.join(os.tmpdir(), 'faceembed-sweep-'));
      for (const rel of Object.values(FILES)) {
        await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
        await writeFile(path.join(root, rel), 'bytes');
        if (!FRESH.has(rel)) await utimes(path.join(root, rel), OLD, OLD);
      }
      const db = opened.db;
      const now = new Date().toISOString();
      const crop = { width: 1, height: 1, sha256: 'x', person_id: null, label: null, box: null, created_at: now };
      await db
        .insertInto('face_crops')
        .values([
          { ...crop, image_path: FILES.crop, source_photo_id: null },
          { ...crop, image_path: FILES.client, source_photo_id: null },
          { ...crop, image_path: 'uploads/missing.jpg', source_photo_id: null },
        ])
        .execute();
      const group = await new GroupRepository(db).create({ name: 'g' });
      const sessions = new SessionRepository(db);
      const session = await sessions.create({ groupId: group.id, modelName: 'arcface' });
      await sessions.addPhoto({ sessionId: session.id, imagePath: FILES.photo, width: 1, height: 1 });
      const job = await db
        .insertInto('jobs')
        .values({
          kind: 'session-photo',
          status: 'queued',
          model_name: 'arcface',
          force: 0,
          total: 1,
          error: null,
          created_at: now,
          started_at: null,
          finished_at: null,
          session_id: session.id,
          actor: 'test',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('job_items')
        .values({
          job_id: Number(job.id),
          item_id: 1,
          status: 'pending',
          attempts: 0,
          error_type: null,
          error_message: null,
          node: null,
          finished_at: null,
          image_path: FILES.queued,
          person_id: null,
          enrolled_face_crop_id: null,
        })
        .execute();
      sweeper = new MediaSweepService({ storage: new MediaStorage(root), owners: new MediaOwnerRepository(db) });
    });
    after(async () => {
      await opened?.close();
      if (root) await rm(root, { recursive: true, force: true });
    });

    test('the sweep removes old .part and unowned files only', async () => {
      const result = await sweeper.sweep(GRACE_MS);
      assert.deepEqual(result, { parts: 1, orphans: 2, young: 2 });
      for (const gone of [FILES.oldPart, FILES.oldOrphan, FILES.oldImport]) assert.ok(!onDisk(gone), `${gone} removed`);
      for (const kept of [FILES.freshPart, FILES.freshOrphan, FILES.crop, FILES.photo, FILES.queued, FILES.client])
        assert.ok(onDisk(kept), `${kept} kept`);
      assert.deepEqual(
        await sweeper.sweep(GRACE_MS),
        { parts: 0, orphans: 0, young: 2 },
        'a second sweep finds nothing old',
      );
    });

    test('fsck reports both ways, exits 1, and --fix removes the orphans', () => {
      const report = fsck(opened, root);
      assert.equal(report.code, 1, report.stderr);
      assert.deepEqual(report.body, {
        orphan_files: [FILES.freshPart, FILES.freshOrphan],
        missing_files: ['uploads/missing.jpg'],
      });
      const young = fsck(opened, root, '--min-age', '600');
      assert.deepEqual(young.body.orphan_files, [], 'files younger than --min-age are not counted');
      const fixed = fsck(opened, root, '--fix');
      assert.equal(fixed.code, 1, 'it found something');
      assert.deepEqual(fixed.body.removed_files, [FILES.freshPart, FILES.freshOrphan]);
      assert.ok(!onDisk(FILES.freshOrphan) && !onDisk(FILES.freshPart));
      assert.ok(onDisk(FILES.crop) && onDisk(FILES.photo) && onDisk(FILES.queued) && onDisk(FILES.client));
    });

    test('fsck exits 0 once nothing is missing or orphaned', async () => {
      await opened.db.deleteFrom('face_crops').where('image_path', '=', 'uploads/missing.jpg').execute();
      const clean = fsck(opened, root);
      assert.equal(clean.code, 0, clean.stderr);
      assert.deepEqual(clean.body, { orphan_files: [], missing_files: [] });
      // A job that ended no longer owns its photo.
      await opened.db.updateTable('jobs').set({ status: 'failed' }).execute();
      assert.deepEqual(fsck(opened, root).body.orphan_files, [FILES.queued]);
    });
  });
}
