// First paint of the web app's session page with a class photo of about 30 faces, in Debian's
// Chromium on localhost. Sets up a real server (SQLite, one person enrolled per identity of the
// shared dataset, a group, a session with one tiled class photo), then loads /sessions/{id}
// in a fresh tab several times and prints, per load: first contentful paint, and the time until
// every face box is drawn over the decoded photo.
//   npm run bench:web -- --data ../shared/datasets/deepface-unit [--runs 5]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { CHROMIUM_SKIP, launchBrowser } from './parts/chromium.js';
import { median, round } from './parts/common.js';
import { startServer, type ServerHandle } from './parts/http.js';
import { IDENTITIES } from './parts/dataset.js';

async function api<T>(server: ServerHandle, method: string, p: string, body?: unknown): Promise<T> {
  const isForm = body instanceof FormData;
  const res = await fetch(`${server.baseUrl}/api/attendance/${p}`, {
    method,
    headers: body === undefined || isForm ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const imageForm = (data: Buffer, name: string) => {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), name);
  return form;
};

/** `files` in a grid of `columns`, each scaled to `cell` px high, on white. */
async function grid(files: readonly string[], columns: number, cell: number): Promise<Buffer> {
  const tiles = await Promise.all(
    files.map((f) => sharp(f).rotate().resize({ width: cell, height: cell, fit: 'cover' }).jpeg().toBuffer()),
  );
  const rows = Math.ceil(tiles.length / columns);
  return sharp({ create: { width: columns * cell, height: rows * cell, channels: 3, background: '#ffffff' } })
    .composite(tiles.map((input, i) => ({ input, left: (i % columns) * cell, top: Math.floor(i / columns) * cell })))
    .jpeg({ quality: 90 })
    .toBuffer();
}

async function setUp(server: ServerHandle, data: string): Promise<{ sessionId: number; faces: number }> {
  const photo = (n: number) => path.join(data, `img${n}.jpg`);
  const personIds: number[] = [];
  for (const [i, ids] of IDENTITIES.entries()) {
    const person = await api<{ id: number }>(server, 'POST', 'persons/', { name: `Student ${i + 1}` });
    await api(
      server,
      'POST',
      `persons/${person.id}/faces/`,
      imageForm(await sharp(photo(ids[0]!)).toBuffer(), 'e.jpg'),
    );
    personIds.push(person.id);
  }
  const group = await api<{ id: number }>(server, 'POST', 'groups/', { name: 'Bench class' });
  await api(server, 'PUT', `groups/${group.id}/members/`, { person_ids: personIds });
  const session = await api<{ id: number }>(server, 'POST', 'sessions/', { group_id: group.id });
  const others = IDENTITIES.flatMap((ids) => ids.slice(1)).slice(0, 30);
  const classPhoto = await grid(others.map(photo), 6, 320);
  const res = await api<{ faces: unknown[] }>(
    server,
    'POST',
    `sessions/${session.id}/photos/`,
    imageForm(classPhoto, 'class.jpg'),
  );
  return { sessionId: session.id, faces: res.faces.length };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string' }, runs: { type: 'string', default: '5' } } });
  if (!values.data) throw new Error('--data DIR (the shared deepface-unit dataset) is required');
  if (CHROMIUM_SKIP) throw new Error(CHROMIUM_SKIP);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-bench-web-'));
  const server = await startServer({
    mediaRoot: path.join(workDir, 'media'),
    workDir,
    env: { FACEEMBED_WORKERS: '1' },
  });
  const b = await launchBrowser();
  try {
    const { sessionId, faces } = await setUp(server, path.resolve(values.data));
    const rows: { fcp: number; boxes: number }[] = [];
    for (let run = 0; run < Number(values.runs); run++) {
      const page = await b.context.newPage();
      await page.goto(`${server.baseUrl}/sessions/${sessionId}`);
      await page.waitForFunction(
        `document.querySelectorAll('svg .face').length >= ${faces} && document.querySelector('svg image')`,
        undefined,
        { timeout: 30_000 },
      );
      // Time to boxes: when the last box is in the DOM and the photo is decoded and painted.
      const timing = (await page.evaluate(`(async () => {
        const img = new Image();
        img.src = document.querySelector('svg image').getAttribute('href');
        await img.decode();
        await new Promise((r) => requestAnimationFrame(() => r()));
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        return { fcp: fcp ? fcp.startTime : NaN, boxes: performance.now() };
      })()`)) as { fcp: number; boxes: number };
      rows.push(timing);
      await page.close();
    }
    console.log(
      `session page, ${faces} faces, ${rows.length} loads (Chromium ${b.context.browser()?.version() ?? ''})`,
    );
    console.log('| load | first contentful paint ms | all boxes over the photo ms |');
    console.log('|---|---|---|');
    rows.forEach((r, i) => console.log(`| ${i + 1} | ${round(r.fcp, 0)} | ${round(r.boxes, 0)} |`));
    console.log(
      `| median | ${round(median(rows.map((r) => r.fcp)), 0)} | ${round(median(rows.map((r) => r.boxes)), 0)} |`,
    );
  } finally {
    await b.close();
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
