// Persons and groups over HTTP on both databases: CRUD, conflicts, rosters and their bad input.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_TARGETS } from '../repositories/db-targets.js';
import { assertError, buildTestApp, startEmbedder, type TestApp, type TestEmbedder } from './helper.js';

const PERSONS = '/api/attendance/persons/';
const GROUPS = '/api/attendance/groups/';

let emb: TestEmbedder;
before(async () => {
  emb = await startEmbedder();
});
after(() => emb?.close());

for (const target of DB_TARGETS) {
  describe(`persons and groups over HTTP (${target.name})`, { skip: target.skip }, () => {
    let t: TestApp;
    before(async () => {
      t = await buildTestApp(target, emb.embedder);
    });
    after(() => t?.close());
    const call = (method: 'POST' | 'PUT' | 'PATCH' | 'GET' | 'DELETE', url: string, payload?: object) =>
      t.app.inject({ method, url, ...(payload && { payload }) });

    test('persons: create 201, read, patch, list with pages, delete 204 then 404', async () => {
      const res = await call('POST', PERSONS, { name: 'Ada L.', external_id: 'S-100', metadata: { class: '3b' } });
      assert.equal(res.statusCode, 201, res.body);
      const p = res.json();
      assert.deepEqual(
        { ...p, id: 0, created_at: '' },
        {
          id: 0,
          name: 'Ada L.',
          external_id: 'S-100',
          metadata: { class: '3b' },
          face_count: 0,
          created_at: '',
          enrolment: { photos: 0, strength: 'weak', reasons: ['no_photos'] },
          consent: { status: 'unknown', by: null, at: null, basis: null },
        },
      );
      assert.deepEqual((await call('GET', `${PERSONS}${p.id}/`)).json(), p);
      assert.deepEqual((await call('GET', `${PERSONS}${p.id}`)).json(), p, 'no trailing slash');
      const patched = await call('PATCH', `${PERSONS}${p.id}/`, { name: 'Ada' });
      assert.deepEqual(patched.json(), { ...p, name: 'Ada' });
      for (let i = 0; i < 3; i++) await call('POST', PERSONS.slice(0, -1), { name: `p${i}` });
      const page = await call('GET', `${PERSONS}?page=1&page_size=2`);
      assert.equal(page.json().count, 4);
      assert.equal(page.json().results.length, 2);
      assert.ok(page.json().next.includes('page=2'));
      assert.equal((await call('GET', `${PERSONS}?external_id=S-100`)).json().results[0].id, p.id);
      assertError(await call('GET', `${PERSONS}?page=9`), 404, 'NotFoundError');
      assert.equal((await call('DELETE', `${PERSONS}${p.id}/`)).statusCode, 204);
      assertError(await call('GET', `${PERSONS}${p.id}/`), 404, 'NotFoundError');
      assertError(await call('DELETE', `${PERSONS}${p.id}/`), 404, 'NotFoundError');
      assertError(await call('PATCH', `${PERSONS}${p.id}/`, { name: 'x' }), 404, 'NotFoundError');
    });

    test('persons: a taken external_id is 409 ConflictError; bad bodies are 400', async () => {
      assert.equal((await call('POST', PERSONS, { name: 'one', external_id: 'dup' })).statusCode, 201);
      const err = assertError(await call('POST', PERSONS, { name: 'two', external_id: 'dup' }), 409, 'ConflictError');
      assert.match(err.message, /dup/);
      const other = (await call('POST', PERSONS, { name: 'other', external_id: 'mine' })).json();
      assertError(await call('PATCH', `${PERSONS}${other.id}/`, { external_id: 'dup' }), 409, 'ConflictError');
      assertError(await call('POST', PERSONS, {}), 400, 'ValidationError');
      assertError(await call('POST', PERSONS, { name: '' }), 400, 'ValidationError');
      assertError(await call('POST', PERSONS, { name: 'x', metadata: [1] }), 400, 'ValidationError');
      assertError(await call('GET', `${PERSONS}abc/`), 400, 'ValidationError');
    });

    test('groups: CRUD, 409 on a taken external_id, rosters replaced, added to and removed from', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) ids.push((await call('POST', PERSONS, { name: `member ${i}` })).json().id);
      const res = await call('POST', GROUPS, { name: 'Class 3b', external_id: 'C3B' });
      assert.equal(res.statusCode, 201, res.body);
      const g = res.json();
      assert.deepEqual(
        { ...g, id: 0, created_at: '' },
        { id: 0, name: 'Class 3b', external_id: 'C3B', member_count: 0, created_at: '' },
      );
      assertError(await call('POST', GROUPS, { name: 'again', external_id: 'C3B' }), 409, 'ConflictError');
      const members = `${GROUPS}${g.id}/members/`;
      const put = await call('PUT', members, { person_ids: [ids[0], ids[1]] });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(put.json().member_count, 2);
      assert.equal((await call('POST', members, { person_ids: [ids[1], ids[2]] })).json().member_count, 3);
      const listed = (await call('GET', members)).json();
      assert.deepEqual(
        listed.results.map((p: { id: number }) => p.id),
        ids,
      );
      assert.equal((await call('DELETE', `${members}${ids[0]}/`)).statusCode, 204);
      assertError(await call('DELETE', `${members}${ids[0]}/`), 404, 'NotFoundError');
      assert.equal((await call('PUT', members, { person_ids: [ids[2]] })).json().member_count, 1);
      assert.equal((await call('GET', `${PERSONS}?group_id=${g.id}`)).json().count, 1);
      assert.equal((await call('PATCH', `${GROUPS}${g.id}/`, { name: '3B' })).json().name, '3B');
      assert.equal((await call('GET', GROUPS)).json().count, 1);
      assert.equal((await call('DELETE', `${GROUPS}${g.id}/`)).statusCode, 204);
      assertError(await call('GET', `${GROUPS}${g.id}/`), 404, 'NotFoundError');
      assertError(await call('GET', `${GROUPS}${g.id}/members/`), 404, 'NotFoundError');
      assertError(await call('PUT', `${GROUPS}${g.id}/members/`, { person_ids: [] }), 404, 'NotFoundError');
      assert.ok((await call('GET', `${PERSONS}${ids[2]}/`)).statusCode === 200, 'persons stay');
    });

    test('an unknown person id in a roster is 400 ValidationError naming it, and nothing changes', async () => {
      const p = (await call('POST', PERSONS, { name: 'known' })).json();
      const g = (await call('POST', GROUPS, { name: 'strict' })).json();
      const members = `${GROUPS}${g.id}/members/`;
      await call('PUT', members, { person_ids: [p.id] });
      for (const method of ['PUT', 'POST'] as const) {
        const err = assertError(await call(method, members, { person_ids: [p.id, 987_654] }), 400, 'ValidationError');
        assert.match(err.message, /987654/);
        assert.deepEqual(err.details, { person_ids: [987_654] });
      }
      assertError(await call('PUT', members, { person_ids: ['1'] }), 400, 'ValidationError');
      assertError(await call('PUT', members, {}), 400, 'ValidationError');
      assert.equal((await call('GET', `${GROUPS}${g.id}/`)).json().member_count, 1);
    });
  });
}
