// Overload against a real server with a small queue: waves of 200 concurrent generate requests.
// Accepted requests complete with 200, the rest get 429 OverloadedError with Retry-After, none
// gets a 5xx, and the server's memory stays flat from wave to wave.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { smallFace, workspace, writeMedia, type Workspace } from './helpers/fixtures.js';
import { Api, BATCH, expectEmbedding, expectError, generatePath, outcome, type Reply } from './helpers/http.js';
import { Section } from './helpers/report.js';
import { ServerProcess } from './helpers/server.js';

const QUEUE_LIMIT = 4;
const WORKERS = 2;
const CONCURRENT = 200;
const WAVES = 4;
const DIMS = 128;

const section = new Section(
  '5-load',
  '5. Overload',
  `A server with ${WORKERS} workers and \`FACEEMBED_QUEUE_LIMIT=${QUEUE_LIMIT}\`; ${WAVES} waves of ${CONCURRENT} concurrent ` +
    '`POST …/generate-embedding/` with `force_regenerate: true` (so every one needs a worker), spread over 6 crops. ' +
    'Server RSS is read from `/proc/<pid>/status` (VmRSS) before the first wave and after each.',
  'load.test.js',
);
after(() => section.save());

describe('overload over HTTP', () => {
  let ws: Workspace;
  let server: ServerProcess;
  let api: Api;
  const ids: number[] = [];

  before(async () => {
    ws = await workspace('load');
    for (const n of [1, 2, 3, 4, 5, 6]) await writeMedia(ws.mediaRoot, `faces/${n}.jpg`, await smallFace(n));
    server = await ServerProcess.start({
      databaseUrl: `sqlite:${path.join(ws.dir, 'faceembed.db')}`,
      mediaRoot: ws.mediaRoot,
      modelsDir: ws.modelsDir,
      cwd: ws.dir,
      env: { FACEEMBED_WORKERS: String(WORKERS), FACEEMBED_QUEUE_LIMIT: String(QUEUE_LIMIT) },
    });
    api = new Api(server.baseUrl);
    for (const n of [1, 2, 3, 4, 5, 6]) ids.push(await api.register(`faces/${n}.jpg`));
    // Warm: every code path once, so the first wave measures steady state.
    for (const id of ids) expectEmbedding(await api.post(generatePath(id)), DIMS);
  });
  after(async () => {
    await server?.stop();
    await ws?.close();
  });

  /** Every answer is 200 with a vector or 429 OverloadedError with Retry-After; returns the counts. */
  function tally(replies: Reply[]): { ok: number; overloaded: number } {
    let ok = 0;
    let overloaded = 0;
    for (const r of replies) {
      outcome(r);
      if (r.status === 200) {
        expectEmbedding(r, DIMS);
        ok++;
      } else {
        expectError(r, 429, 'OverloadedError');
        const after = r.headers.get('retry-after') ?? '';
        assert.match(after, /^[1-9]\d*$/, `Retry-After "${after}"`);
        overloaded++;
      }
    }
    return { ok, overloaded };
  }

  test(`${WAVES} waves of ${CONCURRENT} concurrent requests`, async () => {
    const rss = [server.rssMb()];
    const counts: string[] = [];
    for (let wave = 1; wave <= WAVES; wave++) {
      await section.check(
        `wave ${wave}: ${CONCURRENT} concurrent generate requests`,
        `each 200 (accepted, at least ${WORKERS + QUEUE_LIMIT}) or 429 OverloadedError with Retry-After; no 5xx; none hangs`,
        async () => {
          const started = performance.now();
          const replies = await Promise.all(
            Array.from({ length: CONCURRENT }, (_, i) =>
              api.post(generatePath(ids[i % ids.length]!), { force_regenerate: true }, { timeoutMs: 60_000 }),
            ),
          );
          const { ok, overloaded } = tally(replies);
          assert.equal(ok + overloaded, CONCURRENT);
          assert.ok(ok >= WORKERS + QUEUE_LIMIT, `only ${ok} accepted`);
          rss.push(server.rssMb());
          counts.push(
            `wave ${wave}: ${ok} x 200, ${overloaded} x 429 in ${Math.round(performance.now() - started)} ms`,
          );
          section.count('requestsHeld', CONCURRENT);
          return `only 200 and 429 (with Retry-After); no 5xx; all ${CONCURRENT} answered`;
        },
      );
    }
    section.measure(counts.join('; '));

    await section.check(
      'server memory over the waves',
      'RSS bounded: under 100 MiB growth over the first wave, under 30 MiB from wave 2 to the last (the heap settles over the first two)',
      async () => {
        section.measure(`server VmRSS: ${rss[0]} MiB before, ${rss.slice(1).join(' / ')} MiB after each wave`);
        assert.ok(rss[1]! - rss[0]! < 100, `grew from ${rss[0]} to ${rss[1]} MiB`);
        assert.ok(rss[WAVES]! - rss[2]! < 30, `grew from ${rss[2]} to ${rss[WAVES]} MiB over later waves`);
        return 'bounded (numbers under "Measured")';
      },
    );

    await section.check(
      'a batch posted during a wave',
      '200; every item "generated", or "failed" with OverloadedError (typed, never a 5xx)',
      async () => {
        const [batch] = await Promise.all([
          api.post(BATCH, { face_crop_ids: ids, force_regenerate: true }, { timeoutMs: 60_000 }),
          ...Array.from({ length: CONCURRENT }, (_, i) =>
            api.post(generatePath(ids[i % ids.length]!), { force_regenerate: true }, { timeoutMs: 60_000 }),
          ),
        ]);
        assert.equal(batch.status, 200, batch.text);
        const body = batch.json as {
          results: { status: string; error?: { type: string } }[];
          summary: Record<string, number>;
        };
        for (const item of body.results) {
          assert.ok(
            item.status === 'generated' || (item.status === 'failed' && item.error?.type === 'OverloadedError'),
            JSON.stringify(item),
          );
        }
        section.measure(`batch of ${ids.length} during a wave: ${JSON.stringify(body.summary)}`);
        section.count('requestsHeld', CONCURRENT + 1);
        return '200; items generated or failed OverloadedError only';
      },
    );

    await section.check('after the waves', 'the server answers /readyz 200 and a generate request 200', async () => {
      assert.equal((await api.get('/readyz')).status, 200);
      expectEmbedding(await api.post(generatePath(ids[0]!), { force_regenerate: true }), DIMS);
      section.count('faultsSurvived');
      return '/readyz 200; generate 200';
    });
  });
});
