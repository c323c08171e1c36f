// JobRepository on both databases: jobs created whole, items claimed and finished under status
// guards (nothing moves backwards, a finished item is never reopened), completion only once no
// item is open, cancel only while active and final once cancelled, orphans released.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FaceCropRepository } from '../../src/repositories/face-crop.repository.js';
import { JobRepository } from '../../src/repositories/job.repository.js';
import { DB_TARGETS, type OpenedDb } from './db-targets.js';

for (const target of DB_TARGETS) {
  describe(`JobRepository (${target.name})`, { skip: target.skip }, () => {
    let opened: OpenedDb;
    let jobs: JobRepository;
    before(async () => {
      opened = await target.open();
      jobs = new JobRepository(opened.db);
    });
    after(() => opened?.close());

    test('items run, finish once, and the job completes only when none is open', async () => {
      const job = await jobs.create({
        kind: 'generate-embeddings',
        modelName: 'facenet',
        force: false,
        faceCropIds: [5, 3, 5, 9],
      });
      assert.equal(job.status, 'queued');
      assert.equal(job.total, 3, 'duplicates counted once');
      assert.equal(await jobs.start(job.id), true);
      const first = await jobs.openItems(job.id, { limit: 2, pendingOnly: true });
      assert.deepEqual(
        first.map((i) => i.itemId),
        [3, 5],
      );
      await jobs.markRunning(job.id, [3, 5], 'node-a', true);
      assert.deepEqual(
        (await jobs.openItems(job.id, { pendingOnly: true })).map((i) => i.itemId),
        [9],
      );
      assert.equal((await jobs.openItems(job.id, { ids: [3] }))[0]!.attempts, 1);
      await jobs.finish(job.id, [
        { itemId: 3, status: 'generated' },
        { itemId: 5, status: 'failed', errorType: 'ImageDecodeError', errorMessage: 'bad' },
      ]);
      // A second report for a finished item (a slice run twice) changes nothing.
      await jobs.finish(job.id, [{ itemId: 5, status: 'generated' }]);
      assert.equal(await jobs.completeIfDone(job.id), false, 'item 9 is still open');
      await jobs.markRunning(job.id, [9], 'node-b', true);
      await jobs.finish(job.id, [{ itemId: 9, status: 'existing' }]);
      assert.deepEqual(await jobs.progress(job.id, 3), { total: 3, done: 2, failed: 1 });
      assert.equal(await jobs.completeIfDone(job.id), true);
      assert.equal(await jobs.completeIfDone(job.id), false, 'completed once');
      const items = await jobs.items(job.id);
      assert.deepEqual(
        items.map((i) => [i.itemId, i.status, i.errorType]),
        [
          [3, 'generated', null],
          [5, 'failed', 'ImageDecodeError'],
          [9, 'existing', null],
        ],
      );
      assert.equal((await jobs.cancel(job.id))!.status, 'completed', 'an ended job cannot be cancelled');
      assert.equal(await jobs.start(job.id), false);
    });

    test("a failed item keeps its error's details; a success has none", async () => {
      const job = await jobs.create({
        kind: 'enrol',
        photos: [
          { imagePath: 'imports/a.jpg', personId: 1 },
          { imagePath: 'imports/b.jpg', personId: 1 },
        ],
      });
      await jobs.start(job.id);
      await jobs.markRunning(job.id, [1, 2], 'node-a', true);
      const details = { reason: 'several_faces', count: 2, faces: [[1, 2, 3, 4]] };
      await jobs.finish(job.id, [
        { itemId: 1, status: 'failed', errorType: 'ValidationError', errorMessage: 'two faces', errorDetails: details },
        { itemId: 2, status: 'enrolled', enrolledFaceCropId: 7 },
      ]);
      assert.deepEqual(
        (await jobs.items(job.id)).map((i) => [i.itemId, i.errorType, i.errorDetails]),
        [
          [1, 'ValidationError', details],
          [2, null, null],
        ],
      );
    });

    test('"all" takes every stored crop; cancel stops an active job; orphans go back to pending', async () => {
      const crops = new FaceCropRepository(opened.db);
      for (let i = 0; i < 3; i++)
        await crops.create({ imagePath: `c${i}.jpg`, width: 1, height: 1, sha256: '0'.repeat(64) });
      const job = await jobs.create({
        kind: 'generate-embeddings',
        modelName: 'facenet',
        force: true,
        faceCropIds: 'all',
      });
      assert.equal(job.total, 3);
      assert.equal(job.force, true);
      await jobs.start(job.id);
      const [item] = await jobs.openItems(job.id, { limit: 1 });
      await jobs.markRunning(job.id, [item!.itemId], 'dead-node', true);
      assert.ok((await jobs.releaseOrphans()) >= 1);
      assert.equal((await jobs.openItems(job.id, { pendingOnly: true })).length, 3);
      assert.equal((await jobs.cancel(job.id))!.status, 'cancelled');
      assert.equal(await jobs.start(job.id), false, 'a cancelled job does not start again');
      assert.equal((await jobs.list({ status: 'cancelled', offset: 0, limit: 10 })).count, 1);
      assert.ok(!(await jobs.active()).some((j) => j.id === job.id));
    });
    test('cancel is final: cancelling while an item runs, then cancelled, then nothing moves', async () => {
      const job = await jobs.create({
        kind: 'generate-embeddings',
        modelName: 'facenet',
        force: false,
        faceCropIds: [1, 2, 3, 4],
      });
      await jobs.start(job.id);
      assert.deepEqual(await jobs.markRunning(job.id, [1, 2], 'node-a', true), [1, 2]);
      assert.equal((await jobs.cancel(job.id))!.status, 'cancelling', 'items 1 and 2 are in flight');
      assert.deepEqual(await jobs.markRunning(job.id, [3], 'node-b', true), [], 'no item starts once cancelling');
      assert.equal(await jobs.start(job.id), false);
      // The slice in flight drains: its outcome lands, and the job is cancelled once none runs.
      await jobs.finish(job.id, [{ itemId: 1, status: 'generated' }]);
      assert.equal(await jobs.settleCancel(job.id), 0, 'item 2 still runs');
      await jobs.release(job.id, [2]);
      assert.equal(await jobs.settleCancel(job.id), 1);
      const frozen = { job: await jobs.get(job.id), items: await jobs.items(job.id) };
      assert.equal(frozen.job!.status, 'cancelled');
      // A late report (a node BullMQ took for dead) and every other item statement change nothing.
      await jobs.finish(job.id, [
        { itemId: 2, status: 'generated' },
        { itemId: 3, status: 'failed', errorType: 'InternalError' },
      ]);
      assert.deepEqual(await jobs.markRunning(job.id, [3, 4], 'node-c', false), []);
      await jobs.release(job.id, [1, 2, 3, 4]);
      assert.equal(await jobs.completeIfDone(job.id), false);
      assert.equal((await jobs.cancel(job.id))!.status, 'cancelled');
      assert.deepEqual({ job: await jobs.get(job.id), items: await jobs.items(job.id) }, frozen);
      assert.deepEqual(await jobs.progress(job.id, 4), { total: 4, done: 1, failed: 0 });
    });

    test('a queued job cancels at once; a process that died while cancelling leaves it cancelled', async () => {
      const queued = await jobs.create({
        kind: 'generate-embeddings',
        modelName: 'facenet',
        force: false,
        faceCropIds: [7],
      });
      assert.equal((await jobs.cancel(queued.id))!.status, 'cancelled');
      const job = await jobs.create({
        kind: 'generate-embeddings',
        modelName: 'facenet',
        force: false,
        faceCropIds: [8],
      });
      await jobs.start(job.id);
      await jobs.markRunning(job.id, [8], 'dead-node', true);
      assert.equal((await jobs.cancel(job.id))!.status, 'cancelling');
      assert.ok(
        (await jobs.active()).some((j) => j.id === job.id),
        'cancelling is not ended yet',
      );
      assert.ok((await jobs.releaseOrphans()) >= 1);
      assert.equal((await jobs.get(job.id))!.status, 'cancelled');
      assert.deepEqual(
        (await jobs.items(job.id)).map((i) => i.status),
        ['pending'],
      );
    });
  });
}
