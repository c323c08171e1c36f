import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AttendanceStore } from '../../src/repositories/attendance-store.js';
import { DB_TARGETS, type OpenedDb } from './db-targets.js';

const vec = (...v: number[]) => new Float32Array(v);

for (const target of DB_TARGETS) {
  describe(`Attendance storage (${target.name})`, { skip: target.skip }, () => {
    let opened: OpenedDb;
    let store: AttendanceStore;
    let groupId: number;
    let ann: number;
    let bob: number;
    before(async () => {
      opened = await target.open();
      store = new AttendanceStore(opened.db);
      ann = (await store.persons.create({ name: 'Ann' })).id;
      bob = (await store.persons.create({ name: 'Bob' })).id;
      groupId = (await store.groups.create({ name: '3b' })).id;
      await store.groups.addMembers(groupId, [ann, bob]);
    });
    after(() => opened?.close());

    test('sessions: create, list, lock, close once; photos in upload order', async () => {
      const s = await store.sessions.create({
        groupId,
        name: 'Mon',
        startsAt: '2026-12-01T08:00:00Z',
        modelName: 'facenet',
      });
      assert.equal(s.status, 'open');
      assert.equal(s.startsAt, '2026-12-01T08:00:00.000Z');
      assert.deepEqual(await store.sessions.findById(s.id), s);
      assert.equal((await store.sessions.list({ offset: 0, limit: 10, groupId })).sessions[0]?.id, s.id);
      const p1 = await store.sessions.addPhoto({ sessionId: s.id, imagePath: 'uploads/a.jpg', width: 40, height: 30 });
      const p2 = await store.sessions.addPhoto({ sessionId: s.id, imagePath: 'uploads/b.jpg', width: 40, height: 30 });
      assert.deepEqual(
        (await store.sessions.listPhotos(s.id)).map((p) => p.id),
        [p1.id, p2.id],
      );
      assert.equal(await store.sessions.findPhoto(s.id + 1000, p1.id), undefined);
      const closed = await store.sessions.close(s.id);
      assert.equal(closed?.status, 'closed');
      assert.ok(closed?.closedAt);
      assert.equal(await store.sessions.close(s.id), undefined);
      assert.equal(await store.sessions.close(999_999), undefined);
    });

    test('attendance rows: one per member, updates, and they survive the person with the name kept', async () => {
      const s = await store.sessions.create({ groupId, modelName: 'facenet' });
      const temp = (await store.persons.create({ name: 'Temp' })).id;
      const rows = [ann, bob, temp].map((personId) => ({ sessionId: s.id, personId, personName: `n${personId}` }));
      await store.attendance.addAbsent(rows);
      await store.attendance.addAbsent(rows);
      const listed = await store.attendance.listForSession(s.id);
      assert.equal(listed.length, 3);
      assert.ok(listed.every((r) => r.status === 'absent' && r.source === 'auto'));
      const t = (await store.attendance.find(s.id, temp))!;
      const updated = await store.attendance.update(t.id, {
        status: 'present',
        source: 'manual',
        similarity: 0.95,
        faceCropId: null,
      });
      assert.equal(updated.status, 'present');
      assert.equal(updated.similarity, 0.95);
      await store.persons.delete(temp);
      const after = await store.attendance.listForSession(s.id);
      assert.equal(after.length, 3);
      const last = after.at(-1)!;
      assert.deepEqual([last.personId, last.personName, last.status], [null, `n${temp}`, 'present']);
    });

    test('audit events: filtered by session and person, oldest first, JSON kept, outlive the person', async () => {
      const gone = (await store.persons.create({ name: 'Gone' })).id;
      const base = { actor: 'teacher', faceCropId: null, note: null, personName: 'Gone' };
      await store.audit.append([
        { ...base, action: 'a1', sessionId: 901, personId: gone, before: null, after: { status: 'present' } },
        { ...base, action: 'a2', sessionId: 901, personId: ann, before: { x: [1, 2] }, after: null },
        { ...base, action: 'a3', sessionId: 902, personId: gone, before: null, after: null },
      ]);
      await store.persons.delete(gone);
      const bySession = await store.audit.list({ offset: 0, limit: 10, sessionId: 901 });
      assert.deepEqual(
        bySession.events.map((e) => e.action),
        ['a1', 'a2'],
      );
      assert.deepEqual(bySession.events[0]?.after, { status: 'present' });
      assert.deepEqual(bySession.events[1]?.before, { x: [1, 2] });
      const byPerson = await store.audit.list({ offset: 0, limit: 10, personId: gone });
      assert.deepEqual(
        byPerson.events.map((e) => e.action),
        ['a1', 'a3'],
      );
      assert.equal(byPerson.count, 2);
      const both = await store.audit.list({ offset: 0, limit: 10, sessionId: 902, personId: gone });
      assert.deepEqual(
        both.events.map((e) => [e.action, e.personName]),
        [['a3', 'Gone']],
      );
    });

    test('session faces and member galleries come with the embeddings of the asked model only', async () => {
      const s = await store.sessions.create({ groupId, modelName: 'facenet' });
      const photo = await store.sessions.addPhoto({ sessionId: s.id, imagePath: 'uploads/c.jpg', width: 9, height: 9 });
      const crop = (box: [number, number, number, number], personId: number | null, sourcePhotoId: number | null) =>
        store.crops.create({
          imagePath: 'uploads/f.jpg',
          width: 2,
          height: 2,
          sha256: 'x',
          box,
          personId,
          sourcePhotoId,
        });
      const f1 = await crop([1, 2, 3, 4], null, photo.id);
      const f2 = await crop([5, 6, 7, 8], null, photo.id);
      const g1 = await crop([0, 0, 1, 1], ann, null);
      await store.embeddings.upsert({
        faceCropId: f1.id,
        modelName: 'facenet',
        modelVersion: 'v',
        embedding: vec(1, 0),
      });
      await store.embeddings.upsert({
        faceCropId: f2.id,
        modelName: 'arcface',
        modelVersion: 'v',
        embedding: vec(0, 1),
      });
      await store.embeddings.upsert({
        faceCropId: g1.id,
        modelName: 'facenet',
        modelVersion: 'v',
        embedding: vec(0.5, 0.5),
      });
      const faces = await store.attendance.sessionFaces(s.id, 'facenet');
      assert.deepEqual(
        faces.map((f) => [f.faceCropId, f.photoId, f.box, f.embedding && [...f.embedding]]),
        [
          [f1.id, photo.id, [1, 2, 3, 4], [1, 0]],
          [f2.id, photo.id, [5, 6, 7, 8], null],
        ],
      );
      const gallery = await store.attendance.galleries([ann, bob], 'facenet');
      assert.deepEqual(
        gallery.map((g) => [g.personId, g.faceCropId, g.embedding && [...g.embedding]]),
        [[ann, g1.id, [0.5, 0.5]]],
      );
    });

    test('withSession: the session as locked, and nothing written when the work throws', async () => {
      const s = await store.sessions.create({ groupId, modelName: 'facenet' });
      await assert.rejects(
        store.withSession(s.id, async (trx, locked) => {
          assert.equal(locked?.id, s.id);
          await trx.sessions.addPhoto({ sessionId: s.id, imagePath: 'uploads/d.jpg', width: 1, height: 1 });
          await trx.attendance.addAbsent([{ sessionId: s.id, personId: ann, personName: 'Ann' }]);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.deepEqual(await store.sessions.listPhotos(s.id), []);
      assert.deepEqual(await store.attendance.listForSession(s.id), []);
      assert.equal(await store.withSession(999_999, async (_trx, locked) => locked), undefined);
    });
  });
}
