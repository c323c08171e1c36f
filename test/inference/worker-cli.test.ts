// The worker as a shell command (the old generate_embedding_worker.py contract), run through the bin.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { GraphBuilder } from '../../src/models/onnx/graph-builder.js';
import { encodePng } from '../helpers/images.js';
import { BIN, DATASET, DATASET_SKIP, REPO, sample } from '../helpers/paths.js';

const exec = promisify(execFile);

interface Run {
  code: number;
  stderr: string;
  result: Record<string, unknown> & { error?: { type: string; message: string; traceback: string } };
}

async function worker(image: string, model: string, env: Record<string, string> = {}): Promise<Run> {
  const resultPath = path.join(tmp, `result-${Math.random().toString(36).slice(2)}.json`);
  const outcome = await exec(BIN, ['worker', image, model, resultPath], {
    cwd: REPO,
    env: { ...process.env, ...env },
  }).then(
    ({ stderr }) => ({ code: 0, stderr }),
    (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
  );
  return { ...outcome, result: JSON.parse(await readFile(resultPath, 'utf8')) };
}

let tmp: string;
let tinyEnv: Record<string, string>;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'faceembed-worker-'));
  // A user-supplied model the test builds itself: per-channel mean of an 8x8 NCHW input.
  const g = new GraphBuilder('tiny');
  const x = g.input('pixels', [-1, 3, 8, 8]);
  const pooled = g.op('GlobalAveragePool', [x]);
  g.node('Flatten', [pooled], {}, { outputs: ['channel_means'] });
  g.output('channel_means', [-1, 3]);
  await writeFile(path.join(tmp, 'tiny.onnx'), g.toBytes());
  await writeFile(
    path.join(tmp, 'models.json'),
    JSON.stringify({
      models: [
        {
          name: 'tiny-means',
          aliases: ['tiny'],
          path: 'tiny.onnx',
          dimensions: 3,
          input_size: 8,
          layout: 'nchw',
          mean: [0, 0, 0],
          std: [255, 255, 255],
          threshold: 0.5,
        },
      ],
    }),
  );
  tinyEnv = { FACEEMBED_MODELS_CONFIG: path.join(tmp, 'models.json') };
});

test('a user-registered ONNX model runs with its own input spec', async () => {
  // A square of one colour: no face is found, so the whole image is the input, and any resampling
  // keeps the colour, so the model's per-channel means are known exactly.
  const colour = [200, 100, 50];
  const image = path.join(tmp, 'colour.png');
  await writeFile(image, await encodePng(64, 64, colour));
  const run = await worker(image, 'tiny', tinyEnv);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.result.dimensions, 3);
  assert.deepEqual(run.result.face, { detected: false, faces_seen: 0 }, 'detection ran and saw no face');
  const norm = Math.hypot(...colour);
  const got = run.result.embedding as number[];
  colour.forEach((v, c) => assert.ok(Math.abs(got[c]! - v / norm) < 1e-5, `channel ${c}: ${got[c]} vs ${v / norm}`));
});

test('success: 128 values of norm 1 for facenet, [WORKER] steps on stderr', async () => {
  const run = await worker(sample(1), 'facenet');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.result.success, true);
  const e = run.result.embedding as number[];
  assert.equal(e.length, 128);
  assert.ok(Math.abs(Math.hypot(...e) - 1) < 1e-5);
  for (const step of [
    'Starting embedding generation',
    'Image: ',
    'Model: facenet',
    'Generating embedding',
    'Embedding generated successfully: 128 dimensions',
    'Writing result',
    'Success',
    'Worker cleanup complete',
  ]) {
    assert.ok(run.stderr.includes(`[WORKER] ${step}`), `missing step "${step}" in:\n${run.stderr}`);
  }
});

test('arcface on the shared img1.jpg gives 512 values of norm 1', { skip: DATASET_SKIP }, async () => {
  const run = await worker(path.join(DATASET, 'img1.jpg'), 'arcface');
  assert.equal(run.code, 0, run.stderr);
  const e = run.result.embedding as number[];
  assert.equal(e.length, 512);
  assert.ok(Math.abs(Math.hypot(...e) - 1) < 1e-5);
});

test('handled errors exit 1 with the type, message and traceback in the result file', async () => {
  const textAsJpeg = path.join(tmp, 'notes.jpg');
  await writeFile(textAsJpeg, 'this is not an image\n');
  const cases: [string, string, string][] = [
    [path.join(tmp, 'missing.jpg'), 'facenet', 'FileNotFoundError'],
    [sample(1), 'vgg-face', 'ValueError'],
    [textAsJpeg, 'facenet', 'ImageDecodeError'],
  ];
  for (const [image, model, type] of cases) {
    const run = await worker(image, model);
    assert.equal(run.code, 1, `${type}: ${run.stderr}`);
    assert.equal(run.result.success, false);
    assert.equal(run.result.error?.type, type);
    assert.ok(run.result.error?.message);
    assert.match(run.result.error?.traceback ?? '', /at /);
  }
});
