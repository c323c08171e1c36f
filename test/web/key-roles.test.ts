// The web app offers only what the key in use may do (GET me/), in Debian's Chromium on a real
// `faceembed serve` with a key file: a reader sees no form or button that changes data, a
// teacher creates persons into one of its groups and no groups, an admin gets every form. The
// page runs under the app's Content-Security-Policy: no console error anywhere.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ServerProcess } from '../fault/helpers/server.js';
import { workspace, type Workspace } from '../fault/helpers/fixtures.js';
import { CHROMIUM_SKIP, ConsoleWatch, launchBrowser, type TestBrowser } from '../../bench/parts/chromium.js';

const KEYS = { admin: 'web-admin-key-01', teacher: 'web-teacher-key-01', reader: 'web-reader-key-01' };

describe('the web app follows the key role', { skip: CHROMIUM_SKIP }, () => {
  let ws: Workspace;
  let server: ServerProcess;
  let b: TestBrowser;
  let page: Page;
  let watch: ConsoleWatch;
  let groupId: number;
  const url = (p: string) => `${server.baseUrl}${p}`;

  before(async () => {
    ws = await workspace('faceembed-web-roles-');
    const keyFile = path.join(ws.dir, 'keys.json');
    // Group 1 is created below by the admin, before any page is opened.
    await writeFile(
      keyFile,
      JSON.stringify([
        { name: 'office', key: KEYS.admin, role: 'admin' },
        { name: 'ms-lee', key: KEYS.teacher, role: 'teacher', groups: [1] },
        { name: 'board', key: KEYS.reader, role: 'reader', groups: [1] },
      ]),
    );
    server = await ServerProcess.start({
      databaseUrl: `sqlite:${path.join(ws.dir, 'web.db')}`,
      mediaRoot: ws.mediaRoot,
      modelsDir: ws.modelsDir,
      cwd: ws.dir,
      env: { FACEEMBED_WORKERS: '1', FACEEMBED_API_KEYS_FILE: keyFile, FACEEMBED_LOG_LEVEL: 'warn' },
      readyTimeoutMs: 180_000,
    });
    const res = await fetch(url('/api/attendance/groups/'), {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Class 3b' }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    groupId = ((await res.json()) as { id: number }).id;
    assert.equal(groupId, 1);
    b = await launchBrowser();
    page = b.context.pages()[0] ?? (await b.context.newPage());
    page.setDefaultTimeout(30_000);
    watch = new ConsoleWatch(page);
  });
  after(async () => {
    await b?.close();
    await server?.stop();
    await ws?.close();
  });

  /** The tab holds this key (set on a page of the same origin first, so no 401 is seen), then `where`. */
  async function as(key: string, where: string): Promise<void> {
    await page.goto(url('/healthz'));
    await page.evaluate(`sessionStorage.setItem('faceembed.apiKey', ${JSON.stringify(key)})`);
    await page.goto(url(where));
  }

  test('a reader: its name and "read only" in the header, no form that changes anything', async () => {
    await as(KEYS.reader, '/sessions');
    await page.getByLabel('API key in use').getByText('board · read only').waitFor();
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
    assert.equal(await page.getByRole('form', { name: 'New session' }).count(), 0);
    await page.getByRole('link', { name: 'Persons', exact: true }).click();
    await page.getByRole('heading', { name: 'Persons', level: 1 }).waitFor();
    assert.equal(await page.getByRole('form', { name: 'New person' }).count(), 0);
    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    await page.getByRole('link', { name: 'Class 3b' }).click();
    await page.getByRole('heading', { name: 'Class 3b', level: 1 }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Add persons' }).count(), 0);
  });

  test('a teacher: creates a person into its group; may not create groups', async () => {
    await as(KEYS.teacher, '/groups');
    await page.getByLabel('API key in use').getByText('ms-lee · teacher').waitFor();
    await page.getByRole('link', { name: 'Class 3b' }).waitFor();
    assert.equal(await page.getByRole('form', { name: 'New group' }).count(), 0);
    await page.getByRole('link', { name: 'Persons', exact: true }).click();
    const form = page.getByRole('form', { name: 'New person' });
    await form.getByLabel('Name').fill('Ada');
    await form.getByLabel('Group').selectOption({ label: 'Class 3b' });
    await form.getByRole('button', { name: 'Create person' }).click();
    await page.getByRole('heading', { name: 'Ada', level: 1 }).waitFor();
    const members = await fetch(url(`/api/attendance/groups/${groupId}/members/`), {
      headers: { authorization: `Bearer ${KEYS.admin}` },
    });
    assert.deepEqual(
      ((await members.json()) as { results: { name: string }[] }).results.map((p) => p.name),
      ['Ada'],
    );
  });

  test('an admin gets the group form', async () => {
    await as(KEYS.admin, '/groups');
    await page.getByLabel('API key in use').getByText('office · admin').waitFor();
    await page.getByRole('form', { name: 'New group' }).waitFor();
  });

  test('no console error on any page (the CSP refused nothing)', () => {
    assert.deepEqual(watch.errors, []);
  });
});
