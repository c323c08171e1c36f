// `kill -9` of the server in the middle of a 500-crop batch, twice (while it computes, and as
// soon as its first rows are visible in the database), each time restarted on the same
// database. Every crop must hold one whole embedding or none, and a re-posted batch (no force)
// must compute exactly what is missing. SQLite always; PostgreSQL when configured.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DB_TARGETS, type DbTarget, type OpenedDb } from '../repositories/db-targets.js';
import { checkEmbeddings, countRows, type Integrity } from './helpers/db.js';
import { smallFace, workspace, writeMedia, type Workspace } from './helpers/fixtures.js';
import { Api, BATCH, CROPS } from './helpers/http.js';
import { Section } from './helpers/report.js';
import { ServerProcess } from './helpers/server.js';

const FILE = 'crash-consistency.test.js';
const CROP_COUNT = 500;
const PRESTORED = 200;
/** Embeddings computed by the batch before the first kill. */
const KILL_AFTER = 100;
const DIMS = 128;

interface BatchBody {
  results: { face_crop_id: number; status: string }[];
  summary: { generated: number; existing: number; failed: number };
}

const EMBEDDED = 'Embedding generated successfully: 128 dimensions';
/** Embeddings the server's workers have finished so far. */
const embedded = (server: ServerProcess) => server.messageCounts.get(EMBEDDED) ?? 0;

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const sections = new Map<string, Section>();
after(() => {
  for (const s of sections.values()) s.save();
});

for (const [index, target] of DB_TARGETS.entries()) runOn(target, index);

function runOn(target: DbTarget, index: number): void {
  const section = new Section(
    `3${String.fromCharCode(97 + index)}-crash-${target.name}`,
    `3${String.fromCharCode(97 + index)}. Server \`kill -9\` during a ${CROP_COUNT}-crop batch (${target.name === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`,
    `${CROP_COUNT} crops (6 small photos under many names, registered over HTTP), ${PRESTORED} of them embedded first. ` +
      'Then `POST generate-embeddings-batch/` for all of them, without force, and SIGKILL to the server: once while it ' +
      'computes, once as soon as new rows appear in the database. After each kill the server is restarted on the same ' +
      'database and the rows are checked: 128 dimensions, 512 bytes, finite, unit length, one per (crop, model).',
    FILE,
  );
  sections.set(target.name, section);
  if (target.skip) section.skip(target.skip);

  describe(`server kill -9 during a batch (${target.name})`, { skip: target.skip }, () => {
    let ws: Workspace;
    let opened: OpenedDb;
    let server: ServerProcess | undefined;
    let ids: number[] = [];
    let model = { modelName: '', modelVersion: '', dimensions: DIMS };

    const start = async () => {
      server = await ServerProcess.start({
        databaseUrl: opened.url,
        mediaRoot: ws.mediaRoot,
        modelsDir: ws.modelsDir,
        cwd: ws.dir,
        // Counted from the per-embedding worker step line, logged at debug.
        env: { FACEEMBED_WORKERS: '2', FACEEMBED_LOG_LEVEL: 'debug' },
      });
      return { server, api: new Api(server.baseUrl) };
    };
    const integrity = async (): Promise<Integrity> => {
      const result = await checkEmbeddings(opened.db, model);
      assert.deepEqual(result.problems, [], 'every stored embedding is whole');
      assert.equal(await countRows(opened.db, 'face_crops'), CROP_COUNT, 'no crop lost or added');
      return result;
    };
    const postBatch = (api: Api) => api.post(BATCH, { face_crop_ids: ids }, { timeoutMs: 120_000 });

    before(async () => {
      ws = await workspace(`crash-${target.name}`);
      opened = await target.open();
      for (const n of [1, 2, 3, 4, 5, 6]) await writeMedia(ws.mediaRoot, `faces/${n}.jpg`, await smallFace(n));
      const names = Array.from({ length: CROP_COUNT }, (_, i) => `crops/${String(i).padStart(3, '0')}.jpg`);
      await mkdir(path.join(ws.mediaRoot, 'crops'));
      for (const [i, name] of names.entries())
        await copyFile(path.join(ws.mediaRoot, `faces/${(i % 6) + 1}.jpg`), path.join(ws.mediaRoot, name));
      const { api } = await start();
      const byName = new Map<string, number>();
      const started = performance.now();
      await mapLimit(names, 8, async (name) => {
        byName.set(name, await api.register(name));
      });
      ids = names.map((n) => byName.get(n)!);
      section.measure(
        `${target.name}: ${CROP_COUNT} crops registered over HTTP (8 at a time) in ${Math.round(performance.now() - started)} ms`,
      );
    });
    after(async () => {
      await server?.stop();
      await opened?.close();
      await ws?.close();
    });

    test('prestored embeddings', async () => {
      const api = new Api(server!.baseUrl);
      await section.check(`batch of the first ${PRESTORED} crops`, `200, ${PRESTORED} generated`, async () => {
        const r = await api.post(BATCH, { face_crop_ids: ids.slice(0, PRESTORED) }, { timeoutMs: 120_000 });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual((r.json as BatchBody).summary, { generated: PRESTORED, existing: 0, failed: 0 });
        const detail = (await api.get(`${CROPS}${ids[0]}/`)).json as {
          embeddings: { model_true_name: string; model_version: string; dimensions: number }[];
        };
        const e = detail.embeddings[0]!;
        model = { modelName: e.model_true_name, modelVersion: e.model_version, dimensions: DIMS };
        assert.equal(e.dimensions, DIMS);
        const check = await integrity();
        assert.equal(check.rows, PRESTORED);
        return `200, ${PRESTORED} generated; ${PRESTORED} whole rows`;
      });
    });

    test('kill -9 while the batch computes', async () => {
      await section.check(
        `SIGKILL to the server while the batch computes (after ${KILL_AFTER} new embeddings)`,
        'the client sees the connection drop; the workers exit too; no partial row; restart on the same database serves',
        async () => {
          const from = embedded(server!);
          const pending = postBatch(new Api(server!.baseUrl)).then(
            (r) => `answered ${r.status}`,
            (err: Error) => `no answer (${err.name})`,
          );
          await server!.waitUntil(() => embedded(server!) - from >= KILL_AFTER, 60_000);
          const exit = await server!.kill();
          const computed = embedded(server!) - from;
          assert.equal(exit.signal, 'SIGKILL');
          assert.match(await pending, /no answer/);
          const check = await integrity();
          section.measure(
            `${target.name}, kill while computing: ${computed} embeddings computed by then; ${check.rows} rows stored of ${CROP_COUNT} (${PRESTORED} before the batch)`,
          );
          await start();
          section.count('faultsSurvived');
          section.count('requestsHeld');
          return 'connection dropped; workers exited with the server; every stored row whole, none duplicated; restarted server ready';
        },
      );
    });

    test('kill -9 as the batch writes', async () => {
      await section.check(
        "SIGKILL to the server as soon as the batch's first rows are visible in the database",
        'no partial row, none duplicated; restart on the same database serves',
        async () => {
          const stored = (await integrity()).rows;
          const from = embedded(server!);
          let answered = false;
          const pending = postBatch(new Api(server!.baseUrl)).then(
            (r) => {
              answered = true;
              return `answered ${r.status}`;
            },
            (err: Error) => `no answer (${err.name})`,
          );
          // Rows are written once the batch has computed: wait for that, then watch the table closely.
          await server!.waitUntil(() => embedded(server!) - from >= CROP_COUNT - stored, 120_000);
          const deadline = Date.now() + 30_000;
          while (!answered && (await countRows(opened.db, 'face_embeddings')) === stored) {
            if (Date.now() > deadline) throw new Error('no new rows within 30 s of the last embedding');
            await new Promise(setImmediate); // let the reply's I/O in
          }
          await server!.kill();
          const client = await pending;
          const check = await integrity();
          section.measure(
            `${target.name}, kill while writing: ${check.rows} rows stored of ${CROP_COUNT} when the server died (${stored} before the batch); client: ${client}`,
          );
          await start();
          section.count('faultsSurvived');
          section.count('requestsHeld');
          return 'every stored row whole, none duplicated; restarted server ready';
        },
      );
    });

    test('re-posting the batch completes only what is missing', async () => {
      await section.check(
        'the same batch again after the restarts (no force)',
        `200; "existing" exactly for the crops with a stored row, "generated" for the rest, 0 failed; ${CROP_COUNT} whole rows`,
        async () => {
          const had = (await integrity()).crops;
          const api = new Api(server!.baseUrl);
          const r = await postBatch(api);
          assert.equal(r.status, 200, r.text.slice(0, 300));
          const body = r.json as BatchBody;
          assert.deepEqual(
            body.results.map((x) => x.face_crop_id),
            ids,
            'request order',
          );
          const wrong = body.results.filter((x) => x.status !== (had.has(x.face_crop_id) ? 'existing' : 'generated'));
          assert.deepEqual(wrong, []);
          assert.deepEqual(body.summary, { generated: CROP_COUNT - had.size, existing: had.size, failed: 0 });
          const check = await integrity();
          assert.equal(check.rows, CROP_COUNT);
          const again = await postBatch(api);
          assert.deepEqual((again.json as BatchBody).summary, { generated: 0, existing: CROP_COUNT, failed: 0 });
          section.measure(
            `${target.name}, re-post: ${had.size} existing, ${CROP_COUNT - had.size} generated in ${Math.round(r.ms)} ms`,
          );
          section.count('requestsHeld', 2);
          return `200, statuses match the stored rows one for one, 0 failed; ${CROP_COUNT} whole rows; a third post: all ${CROP_COUNT} existing`;
        },
      );
    });
  });
}
