// The people-facing commands, run through the bin as a user would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, REPO, sample } from '../helpers/paths.js';

const exec = promisify(execFile);

async function run(args: string[], env: Record<string, string> = {}) {
  return exec(BIN, args, { cwd: REPO, env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

test('models --json lists the registry with the documented fields, licence and source included', async () => {
  const { code, stdout } = await run(['models', '--json']);
  assert.equal(code, 0);
  const rows = JSON.parse(stdout) as {
    name: string;
    aliases: string[];
    dimensions: number;
    input_size: number;
    threshold: number;
    threshold_far: number | null;
    size_thresholds: { below_width: number; threshold: number; far: number | null }[];
    source: string;
    licence: string;
    version: string;
  }[];
  // Every built-in is calibrated on LFW dev and says the false-accept rate each threshold and band was chosen at.
  for (const r of rows) {
    assert.equal(r.threshold_far, 1e-4, r.name);
    assert.deepEqual(
      r.size_thresholds.map((b) => [b.below_width, b.far]),
      [42, 56, 80, 112].map((w) => [w, 1e-4]),
      r.name,
    );
    assert.ok(r.size_thresholds.every((b) => b.threshold > -1 && b.threshold < 1));
  }
  const facenet = rows.find((r) => r.aliases.includes('facenet'))!;
  assert.deepEqual([facenet.name, facenet.dimensions, facenet.input_size], ['faceapi-resnet128', 128, 150]);
  // The weights' version, then the pipeline revision (2: dlib's chip).
  assert.match(facenet.version, /^\d+\.\d+\.\d+-[0-9a-f]{12}-p2$/);
  const arcface = rows.find((r) => r.aliases.includes('arcface'))!;
  assert.deepEqual([arcface.name, arcface.dimensions, arcface.input_size], ['faceplugin-mobilefacenet512', 512, 112]);
  // Pipeline revision 2: fed BGR (1 was RGB), so no vector of the old order is compared with a new one.
  assert.match(arcface.version, /-p2$/);
  assert.match(arcface.licence, /does not state|states neither the training data/);
  assert.equal(rows.find((r) => r.name === 'hse-faceres')!.dimensions, 1024);
  assert.deepEqual(
    rows.map((r) => r.source),
    ['@vladmandic/face-api', 'faceplugin-face-recognition-js', '@vladmandic/human'],
  );
  for (const r of rows) assert.match(r.licence, /^MIT \(the npm package /);
  const table = await run(['models']);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /licence: MIT/);
  assert.match(table.stdout, /source: @vladmandic\/human/);
});

test('models --json: a user model, whose threshold no false-accept rate chose, says so with null', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-cli-models-'));
  const config = path.join(dir, 'models.json');
  await writeFile(
    config,
    JSON.stringify({ models: [{ name: 'mine', path: 'mine.onnx', dimensions: 4, input_size: 8, threshold: 0.5 }] }),
  );
  const { code, stdout } = await run(['models', '--json'], { FACEEMBED_MODELS_CONFIG: config });
  assert.equal(code, 0);
  const mine = (
    JSON.parse(stdout) as { name: string; threshold_far: number | null; size_thresholds: unknown[] }[]
  ).find((r) => r.name === 'mine')!;
  assert.deepEqual([mine.threshold_far, mine.size_thresholds], [null, []]);
});

test('embed prints one line per image, failures typed, exit 1 when any failed', async () => {
  const { code, stdout } = await run(['embed', '--model', 'facenet', sample(1), '/nonexistent/x.jpg']);
  assert.equal(code, 1);
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.deepEqual(
    [lines[0].image, lines[0].success, lines[0].dimensions, lines[0].embedding.length],
    [sample(1), true, 128, 128],
  );
  assert.deepEqual([lines[1].success, lines[1].error.type], [false, 'FileNotFoundError']);
});

test('compare prints similarity, threshold, verified and model', async () => {
  const { code, stdout } = await run(['compare', '--model', 'facenet', sample(1), sample(1)]);
  assert.equal(code, 0);
  const out = JSON.parse(stdout);
  assert.equal(out.model, 'facenet');
  assert.ok(out.similarity > 0.9999);
  assert.equal(out.verified, true);
  assert.equal(typeof out.threshold, 'number');
});

test('import registers a folder, reports refused files and leaves none of them behind', async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'faceembed-import-'));
  const src = path.join(tmp, 'class-a');
  await mkdir(path.join(src, 'alice'), { recursive: true });
  await copyFile(sample(1), path.join(src, 'alice', 'one.jpg'));
  await copyFile(sample(2), path.join(src, 'two.jpg'));
  await writeFile(path.join(src, 'broken.jpg'), 'not an image');
  const media = path.join(tmp, 'media');
  const { code, stdout, stderr } = await run(['import', src, '--embed', 'facenet', '--person-from-folder'], {
    FACEEMBED_DATABASE_URL: `sqlite:${path.join(tmp, 'db.sqlite')}`,
    FACEEMBED_MEDIA_ROOT: media,
  });
  assert.equal(code, 1, stderr);
  assert.deepEqual(JSON.parse(stdout), {
    imported: 2,
    failed: 1,
    embeddings: { generated: 2, existing: 0, failed: 0 },
  });
  assert.match(stderr, /broken\.jpg: ImageDecodeError/);
  const stored = (await readdir(media, { recursive: true })).filter((f) => f.endsWith('.jpg')).sort();
  assert.deepEqual(stored, [path.join('imports/class-a/alice/one.jpg'), path.join('imports/class-a/two.jpg')]);
});
