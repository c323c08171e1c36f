// `kill -9` of the server in the middle of uploads (class photos being detected, enrolment
// photos, uploads still streaming in), then a restart whose start-up sweep runs with no grace
// period: afterwards no file under the media root lacks its row, and no row lacks its file.
// SQLite always; PostgreSQL when configured.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { MediaOwnerRepository } from '../../src/repositories/media-owner.repository.js';
import { MediaStorage } from '../../src/repositories/media-storage.js';
import { MediaSweepService } from '../../src/services/media-sweep.service.js';
import { sample } from '../helpers/paths.js';
import { samplesPhoto } from '../http/media-images.js';
import { DB_TARGETS, type DbTarget, type OpenedDb } from '../repositories/db-targets.js';
import { workspace, type Workspace } from './helpers/fixtures.js';
import { Api, CROPS } from './helpers/http.js';
import { Section } from './helpers/report.js';
import { ServerProcess } from './helpers/server.js';
import { readFile } from 'node:fs/promises';

const FILE = 'upload-kill.test.js';
const SESSIONS = '/api/attendance/sessions/';
const PHOTOS = 6;
const CROP_UPLOADS = 4;
const STALLED = 4;

/** A multipart upload that sends its headers and half the image, then stalls (its .part file stays open). */
function stalledUpload(baseUrl: string, url: string, data: Buffer): http.ClientRequest {
  const boundary = `----stall${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="s.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const req = http.request(`${baseUrl}${url}`, {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + data.length + tail.length),
    },
  });
  req.on('error', () => undefined); // the server dies under it
  req.write(Buffer.concat([head, data.subarray(0, data.length >> 1)]));
  return req;
}

const imageForm = (data: Buffer) => {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), 'p.jpg');
  return form;
};

const uploadsOf = (root: string) => {
  try {
    return readdirSync(path.join(root, 'uploads'));
  } catch {
    return [];
  }
};

const sections: Section[] = [];
after(() => sections.forEach((s) => s.save()));

for (const [index, target] of DB_TARGETS.entries()) runOn(target, index);

function runOn(target: DbTarget, index: number): void {
  const db = target.name === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const section = new Section(
    `7${String.fromCharCode(97 + index)}-upload-kill-${target.name}`,
    `7${String.fromCharCode(97 + index)}. Server \`kill -9\` during uploads, then one sweep (${db})`,
    `${PHOTOS} class photos and ${CROP_UPLOADS} enrolment photos uploaded at once, ${STALLED} more uploads stalled half-sent; ` +
      'SIGKILL to the server once some photos were stored and the stalled uploads sit in .part files. The server is ' +
      'restarted with FACEEMBED_MEDIA_SWEEP_GRACE_S=0; after its start-up sweep the media root is checked against the ' +
      'rows in both directions (as `faceembed fsck` does).',
    FILE,
  );
  sections.push(section);
  if (target.skip) section.skip(target.skip);

  describe(`server kill -9 during uploads (${target.name})`, { skip: target.skip }, () => {
    let ws: Workspace;
    let opened: OpenedDb;
    let server: ServerProcess | undefined;
    const start = (env: Record<string, string> = {}) =>
      ServerProcess.start({
        databaseUrl: opened.url,
        mediaRoot: ws.mediaRoot,
        modelsDir: ws.modelsDir,
        cwd: ws.dir,
        env: { FACEEMBED_WORKERS: '1', ...env },
      });
    const check = () =>
      new MediaSweepService({
        storage: new MediaStorage(ws.mediaRoot),
        owners: new MediaOwnerRepository(opened.db),
      }).check(0);

    before(async () => {
      ws = await workspace(`upload-kill-${target.name}`);
      opened = await target.open();
    });
    after(async () => {
      await server?.stop();
      await opened?.close();
      await ws?.close();
    });

    test('no orphan file after kill -9 and one sweep', async () => {
      await section.check(
        'SIGKILL during uploads, restart (its sweep, no grace period)',
        'zero orphan files and zero missing files',
        async () => {
          server = await start();
          const api = new Api(server.baseUrl);
          const group = (await api.post('/api/attendance/groups/', { name: 'kill' })).json as { id: number };
          const session = (await api.post(SESSIONS, { group_id: group.id })).json as { id: number };
          const photo = await samplesPhoto([1, 2, 3]);
          const portrait = await readFile(sample(4));
          const stalled = Array.from({ length: STALLED }, (_, i) =>
            stalledUpload(server!.baseUrl, i % 2 ? CROPS : `${SESSIONS}${session.id}/photos/`, photo),
          );
          const answers: Promise<number>[] = [];
          for (let i = 0; i < PHOTOS; i++)
            answers.push(
              api.call('POST', `${SESSIONS}${session.id}/photos/`, { form: imageForm(photo), timeoutMs: 120_000 }).then(
                (r) => r.status,
                () => 0,
              ),
            );
          for (let i = 0; i < CROP_UPLOADS; i++)
            answers.push(
              api.call('POST', CROPS, { form: imageForm(portrait), timeoutMs: 120_000 }).then(
                (r) => r.status,
                () => 0,
              ),
            );
          const stored = () =>
            opened.db
              .selectFrom('session_photos')
              .select('id')
              .execute()
              .then((r) => r.length);
          const deadline = Date.now() + 120_000;
          while ((await stored()) < 1 || uploadsOf(ws.mediaRoot).filter((f) => f.endsWith('.part')).length < STALLED) {
            if (Date.now() > deadline) throw new Error('no photo stored or no stalled upload staged in time');
            await new Promise((r) => setTimeout(r, 20));
          }
          const exit = await server.kill();
          assert.equal(exit.signal, 'SIGKILL');
          for (const req of stalled) req.destroy();
          const statuses = await Promise.all(answers);
          const before = await check();
          const parts = before.orphanFiles.filter((f) => f.endsWith('.part')).length;
          section.measure(
            `${target.name}: at the kill ${await stored()} of ${PHOTOS} class photos stored, ` +
              `${statuses.filter((s) => s === 201).length} of ${PHOTOS + CROP_UPLOADS} uploads answered 201; ` +
              `left behind: ${parts} .part files and ${before.orphanFiles.length - parts} stored files no row owns`,
          );
          assert.ok(parts >= STALLED, `the stalled uploads left .part files (${parts})`);

          server = await start({ FACEEMBED_MEDIA_SWEEP_GRACE_S: '0' });
          const swept = await server.waitForLog((l) => l.msg === 'media sweep done', 60_000);
          const after = await check();
          assert.deepEqual(after, { orphanFiles: [], missingFiles: [] });
          section.count('faultsSurvived');
          return `sweep removed ${String(swept.parts)} .part and ${String(swept.orphans)} unowned files; 0 orphan, 0 missing`;
        },
      );
    });
  });
}
