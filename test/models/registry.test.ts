import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaceembedError } from '../../src/errors.js';
import { specVersion } from '../../src/models/prepare.js';
import { ModelRegistry, modelSource, parseUserModels } from '../../src/models/registry.js';

test('built-ins answer to the old names and to their true names', () => {
  const r = new ModelRegistry();
  assert.equal(r.get('facenet').name, 'faceapi-resnet128');
  assert.equal(r.get('facenet').dimensions, 128);
  assert.equal(r.get('arcface').name, 'faceplugin-mobilefacenet512');
  assert.equal(r.get('arcface').dimensions, 512);
  assert.equal(r.get('hse-faceres').dimensions, 1024);
  assert.deepEqual(r.get('hse-faceres').aliases, [], 'HSE FaceRes keeps its true name only');
});

test('an unknown model is a ValueError naming the known ones', () => {
  const r = new ModelRegistry();
  assert.throws(
    () => r.get('vgg'),
    (e: FaceembedError) => e.type === 'ValueError' && e.message.includes('facenet'),
  );
});

test('a user model aliased "arcface" takes the alias over from the built-in', () => {
  const specs = parseUserModels(
    '/etc/models.json',
    JSON.stringify({
      models: [
        {
          name: 'arcface-r100',
          aliases: ['arcface'],
          path: 'r100.onnx',
          dimensions: 512,
          input_size: 112,
          mean: [127.5, 127.5, 127.5],
          std: [127.5, 127.5, 127.5],
          threshold: 0.3,
        },
      ],
    }),
  );
  const r = new ModelRegistry(specs);
  assert.equal(r.get('arcface').name, 'arcface-r100');
  assert.deepEqual(r.get('arcface').origin, { kind: 'file', path: '/etc/r100.onnx' });
  assert.equal(r.get('arcface').input.layout, 'nchw');
  assert.deepEqual(r.get('faceplugin-mobilefacenet512').aliases, []);
});

test('every invalid user entry field is reported at once', () => {
  assert.throws(
    () =>
      parseUserModels(
        'm.json',
        JSON.stringify({ models: [{ name: 'bad name', dimensions: -1, input_size: 0, layout: 'chw', threshold: 2 }] }),
      ),
    (e: FaceembedError) =>
      e.type === 'ValidationError' &&
      ['name', 'path', 'dimensions', 'input_size', 'layout', 'threshold'].every((f) => e.message.includes(f)),
  );
  assert.throws(
    () =>
      parseUserModels(
        'm.json',
        JSON.stringify({
          models: [
            { name: 'a', path: 'a.onnx', dimensions: 4, input_size: 8, threshold: 0.5, thresold: 0.5 },
            { name: 'b', path: 'b.onnx', dimensions: 4, input_size: 8, threshold: 0.5, mean: [1, 2] },
          ],
        }),
      ),
    (e: FaceembedError) => {
      const problems = e.details?.problems as string[];
      assert.ok(
        problems.some((p) => p.startsWith('/models/0') && p.includes('thresold')) ||
          problems.some((p) => p.startsWith('/models/0')),
        JSON.stringify(problems),
      );
      assert.ok(
        problems.some((p) => p.startsWith('/models/1/mean')),
        JSON.stringify(problems),
      );
      return e.type === 'ValidationError';
    },
    'an unknown key (a typo) and a short mean, both reported',
  );
  assert.throws(
    () =>
      parseUserModels(
        'm.json',
        JSON.stringify({
          models: [{ name: 'a', path: 'a.onnx', dimensions: 4, input_size: 8, threshold: 0.5, std: [1, 0, 1] }],
        }),
      ),
    (e: FaceembedError) => e.type === 'ValidationError' && e.message.includes('std'),
  );
  assert.throws(
    () => parseUserModels('m.json', '{'),
    (e: FaceembedError) => e.type === 'ValidationError',
  );
});

test('every model states its licence: built-ins from their packages, user models when given', () => {
  for (const spec of new ModelRegistry().specs)
    assert.ok(spec.licence.startsWith(`MIT (the npm package ${modelSource(spec)}, `), spec.licence);
  const [user] = parseUserModels(
    'm.json',
    JSON.stringify({
      models: [{ name: 'a', path: 'a.onnx', dimensions: 4, input_size: 8, threshold: 0.5, licence: 'Apache-2.0' }],
    }),
  );
  assert.equal(user!.licence, 'Apache-2.0');
});

test('two models claiming one name are refused', () => {
  const entry = { name: 'a', path: 'a.onnx', dimensions: 4, input_size: 8, threshold: 0.5 };
  assert.throws(
    () =>
      new ModelRegistry(parseUserModels('m.json', JSON.stringify({ models: [entry, { ...entry, path: 'b.onnx' }] }))),
    (e: FaceembedError) => e.type === 'ValidationError',
  );
});

test("a user model may take dlib's face chip; alignment names outside the three are refused", () => {
  const entry = { name: 'a', path: 'a.onnx', dimensions: 128, input_size: 150, threshold: 0.5 };
  const [dlib] = parseUserModels('m.json', JSON.stringify({ models: [{ ...entry, alignment: 'dlib-chip' }] }));
  assert.deepEqual(dlib!.alignment, { kind: 'dlib-chip', padding: 0.25 });
  const [plain] = parseUserModels('m.json', JSON.stringify({ models: [entry] }));
  assert.deepEqual(plain!.alignment, { kind: 'template', templateScale: 150 / 112 });
  assert.throws(
    () => parseUserModels('m.json', JSON.stringify({ models: [{ ...entry, alignment: 'dlib' }] })),
    (e: FaceembedError) => e.type === 'ValidationError' && e.message.includes('/models/0/alignment'),
  );
});

test('a pipeline revision past the first marks the model version, so old and new chips never meet', () => {
  assert.equal(specVersion({}, '1.7.15-0123456789ab'), '1.7.15-0123456789ab');
  assert.equal(specVersion({ pipelineRevision: 1 }, '1.7.15-0123456789ab'), '1.7.15-0123456789ab');
  assert.equal(specVersion({ pipelineRevision: 2 }, '1.7.15-0123456789ab'), '1.7.15-0123456789ab-p2');
  // facenet is cut as dlib cuts it since revision 2 (its landmark-box vectors were revision 1).
  const facenet = new ModelRegistry().get('facenet');
  assert.deepEqual([facenet.alignment, facenet.pipelineRevision], [{ kind: 'dlib-chip', padding: 0.25 }, 2]);
});
