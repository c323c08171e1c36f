// The synthetic galleries of the search benchmark: the faces distribution reproduces the
// statistics measured on real faces (src/search/face-stats/), probes are new draws of their person.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosineSimilarity } from '../../src/domain/vector.js';
import { ValueError } from '../../src/errors.js';
import { faceStatistics, type Summary } from '../../src/search/face-statistics.js';
import { facesGallery, loadFaceStatistics } from '../../src/search/face-distribution.js';
import { syntheticGallery } from '../../src/search/search-bench.js';

for (const [model, dims, replicas] of [
  ['facenet', 128, 10],
  ['arcface', 1024, 4],
] as const) {
  test(`faces:${model} draws faces whose statistics match the ones measured on real ${model} embeddings`, () => {
    const stored = loadFaceStatistics(model, dims);
    const perPerson = Math.max(...stored.identitySizes);
    const gallery = facesGallery(stored, { dimensions: dims, facesPerPerson: perPerson, seed: 3 });
    // The measured set's identity sizes, several times over: the same estimators on the same shape.
    const identities: Float32Array[][] = [];
    for (let r = 0; r < replicas; r++) {
      for (const size of stored.identitySizes) {
        const first = identities.length * perPerson + 1;
        identities.push(Array.from({ length: size }, (_, j) => gallery.face(first + j)));
      }
    }
    const got = faceStatistics(identities);
    const close = (name: keyof typeof got) => {
      const want: Summary = stored[name];
      const have: Summary = got[name];
      assert.ok(
        Math.abs(have.mean - want.mean) <= 0.25 * want.sd + 0.005,
        `${name} mean ${have.mean}, measured ${want.mean}`,
      );
      assert.ok(have.sd / want.sd > 0.7 && have.sd / want.sd < 1.4, `${name} sd ${have.sd}, measured ${want.sd}`);
    };
    close('faceToCentre');
    close('sameIdentity');
    close('differentIdentity');
    close('betweenCentres');
  });
}

test('a faces probe is a new draw of its person: as close to their faces as their faces are to each other', () => {
  const stored = loadFaceStatistics('facenet', 128);
  const gallery = facesGallery(stored, { dimensions: 128, facesPerPerson: 5, seed: 1 });
  const own: number[] = [];
  const other: number[] = [];
  for (let person = 0; person < 40; person++) {
    const probe = gallery.probe(person * 5 + 1);
    assert.ok(cosineSimilarity(probe, gallery.face(person * 5 + 1)) < 0.9999, 'not a copy of the face');
    for (let j = 1; j <= 5; j++) own.push(cosineSimilarity(probe, gallery.face(person * 5 + j)));
    other.push(cosineSimilarity(probe, gallery.face(((person + 1) % 40) * 5 + 1)));
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean(own) - stored.sameIdentity.mean) < 0.01, `probe to own faces ${mean(own)}`);
  assert.ok(Math.abs(mean(other) - stored.differentIdentity.mean) < 0.03, `probe to others ${mean(other)}`);
  assert.deepEqual(gallery.face(17), gallery.face(17), 'the same face for the same key and seed');
});

test('uniform probes are their face plus noise, cosine about 0.9', () => {
  const gallery = syntheticGallery('uniform', 128, 5, 1);
  assert.equal(gallery.name, 'uniform');
  for (const key of [1, 99, 12345]) {
    const c = cosineSimilarity(gallery.probe(key), gallery.face(key));
    assert.ok(c > 0.85 && c < 0.95, `cosine ${c}`);
  }
});

test('distributions are named by their model; unknown names and dimensions are ValueErrors', () => {
  assert.equal(syntheticGallery('faces', 128, 5, 1).name, 'faces:facenet');
  assert.equal(syntheticGallery('faces', 1024, 5, 1).name, 'faces:arcface');
  assert.equal(syntheticGallery('faces:arcface', 512, 5, 1).dimensions, 512);
  assert.throws(() => syntheticGallery('faces', 300, 5, 1), ValueError);
  assert.throws(() => syntheticGallery('faces:nobody', 128, 5, 1), /No face statistics for model "nobody"/);
  assert.throws(() => syntheticGallery('gaussian', 128, 5, 1), /--distribution must be/);
  assert.throws(() => syntheticGallery('uniform:x', 128, 5, 1), ValueError);
});
