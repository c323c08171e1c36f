import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosineSimilarity } from '../../src/domain/vector.js';
import { FLOAT16_SIMILARITY_BOUND } from '../../src/search/float16.js';
import { Gallery } from '../../src/search/gallery.js';
import { HNSW_DEFAULTS } from '../../src/search/hnsw-index.js';
import { randomVectors } from './exact-index.test.js';

test('persons are scored over their faces; group filter; removals take effect at once', () => {
  const d = 8;
  const [a1, , b1, c1, q] = randomVectors(5, d, 11) as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const g = new Gallery(d);
  g.add(101, 1, a1);
  g.add(102, 1, q); // person 1 has the query itself as a face
  g.add(201, 2, b1);
  g.add(301, 3, c1);
  const all = g.search(q, { topK: 3 });
  assert.equal(all.length, 3);
  assert.deepEqual(all[0], { personId: 1, similarity: all[0]!.similarity, faceCropId: 102 });
  // Mean of the person's two best faces: the query itself (1) and a1.
  assert.ok(Math.abs(all[0]!.similarity - (1 + cosineSimilarity(a1, q)) / 2) < 1e-6);
  assert.deepEqual(new Set(all.map((m) => m.personId)), new Set([1, 2, 3]));
  assert.deepEqual(
    g
      .search(q, { topK: 5, personIds: [2, 3, 99] })
      .map((m) => m.personId)
      .sort(),
    [2, 3],
  );
  assert.deepEqual(g.search(q, { topK: 5, personIds: [] }), []);
  assert.equal(g.removeFace(102), true);
  assert.equal(g.search(q, { topK: 3 }).find((m) => m.personId === 1)?.faceCropId, 101);
  assert.equal(g.removePerson(1), 1);
  assert.ok(!g.search(q, { topK: 3 }).some((m) => m.personId === 1));
  assert.equal(g.personCount(), 2);
  // A face moved to another person is found under the new person only.
  g.add(201, 3, b1);
  assert.deepEqual(
    g.search(b1, { topK: 3 }).map((m) => m.personId),
    [3],
  );
});

/** A unit vector at `cos` to the first axis, in the plane of the first two. */
const at = (cos: number, d = 4): Float32Array => {
  const v = new Float32Array(d);
  v[0] = cos;
  v[1] = Math.sqrt(1 - cos * cos);
  return v;
};

test('one lucky face does not outrank a person matched by two: mean of the two best faces', () => {
  const g = new Gallery(4);
  g.add(1, 1, at(0.9));
  g.add(2, 1, at(0.5));
  g.add(3, 2, at(0.8));
  g.add(4, 2, at(0.79));
  const [first, second] = g.search(at(1), { topK: 2 });
  assert.equal(first!.personId, 2);
  assert.ok(Math.abs(first!.similarity - 0.795) < 1e-5);
  assert.deepEqual([second!.personId, second!.faceCropId], [1, 1]);
  assert.ok(Math.abs(second!.similarity - 0.7) < 1e-5);
});

test('past hnswMinFaces the graph answers, and its answers match exact search on clustered data', () => {
  const d = 16;
  const centres = randomVectors(50, d, 21);
  const noise = randomVectors(50 * 6, d, 22);
  const exact = new Gallery(d, { hnswMinFaces: Number.MAX_SAFE_INTEGER });
  const graph = new Gallery(d, { hnswMinFaces: 100 });
  const graphF32 = new Gallery(d, { hnswMinFaces: 100, graphStore: 'f32' });
  let key = 1;
  centres.forEach((c, p) => {
    for (let j = 0; j < 6; j++) {
      const v = c.map((x, i) => x + 0.15 * noise[p * 6 + j]![i]!);
      for (const g of [exact, graph, graphF32]) g.add(key, p + 1, v);
      key++;
    }
  });
  assert.equal(graph.usesGraph(), true);
  assert.equal(exact.usesGraph(), false);
  assert.deepEqual([exact.store.precision, graph.store.precision, graphF32.store.precision], ['f32', 'f16', 'f32']);
  let worst = 0;
  for (const c of centres) {
    const want = exact.search(c, { topK: 3 });
    const got = graph.search(c, { topK: 3 });
    assert.equal(got[0]!.personId, want[0]!.personId);
    worst = Math.max(worst, Math.abs(got[0]!.similarity - want[0]!.similarity));
    const exactScores = graphF32.search(c, { topK: 3 })[0]!;
    assert.ok(Math.abs(exactScores.similarity - want[0]!.similarity) < 1e-6, 'a float32 store rescores exactly');
    // A group search reads the same store.
    const among = graph.search(c, { topK: 1, personIds: [want[0]!.personId] })[0]!;
    assert.ok(Math.abs(among.similarity - want[0]!.similarity) <= FLOAT16_SIMILARITY_BOUND);
  }
  assert.ok(worst <= FLOAT16_SIMILARITY_BOUND, `a float16 store's scores are within the bound: ${worst}`);
  assert.ok(graph.memoryBytes() > exact.memoryBytes());
});

test("the graph's beam is the gallery's expansion (ef) whatever top k asks, unless more faces are wanted", () => {
  const g = new Gallery(8);
  assert.equal(g.graphCandidates(1), HNSW_DEFAULTS.expansionSearch);
  assert.equal(g.graphCandidates(3), HNSW_DEFAULTS.expansionSearch);
  assert.equal(g.graphCandidates(3, 500), 500);
  assert.equal(new Gallery(8, { hnsw: { expansionSearch: 200 } }).graphCandidates(3), 200);
  assert.equal(g.graphCandidates(100), 100 * 16, 'four faces per person, four candidates per face');
});
