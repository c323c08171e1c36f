// Placing faces one at a time: a face joins the cluster it links to best at the threshold,
// else starts its own; the link kinds differ as they should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { link, placeFace, placeFaces, type FaceCluster } from '../../src/domain/face-clusters.js';

const v = (...xs: number[]) => Float32Array.from(xs);
const face = (id: number, ...xs: number[]) => ({ faceCropId: id, embedding: v(...xs) });

test('links: average, complete and single over a cluster', () => {
  const members = [face(1, 1, 0), face(2, 0, 1)];
  assert.ok(Math.abs(link(v(1, 0), members, 'average') - 0.5) < 1e-9);
  assert.ok(Math.abs(link(v(1, 0), members, 'complete') - 0) < 1e-9);
  assert.ok(Math.abs(link(v(1, 0), members, 'single') - 1) < 1e-9);
});

test('a face joins the best cluster at the threshold, else none; other dimensions are ignored', () => {
  const clusters: FaceCluster[] = [
    { id: 10, faces: [face(1, 1, 0), face(2, 0.99, 0.14)] },
    { id: 20, faces: [face(3, 0, 1)] },
    { id: 30, faces: [face(4, 1, 0, 0)] },
  ];
  const policy = { linkage: 'average' as const, threshold: 0.9 };
  assert.equal(placeFace(v(0.98, 0.2), clusters, policy)?.clusterId, 10);
  assert.equal(placeFace(v(0.1, 1), clusters, policy)?.clusterId, 20);
  assert.equal(placeFace(v(0.7, 0.7), clusters, policy), null);
});

test('placeFaces: new clusters from nextId, in arrival order, the clusters changed in place', () => {
  const clusters: FaceCluster[] = [];
  let next = 100;
  const placed = placeFaces(
    [face(1, 1, 0), face(2, 0, 1), face(3, 0.99, 0.1), face(4, 0.1, 0.99)],
    clusters,
    { linkage: 'average', threshold: 0.9 },
    () => next++,
  );
  assert.deepEqual(placed, [100, 101, 100, 101]);
  assert.deepEqual(
    clusters.map((c) => c.faces.map((f) => f.faceCropId)),
    [
      [1, 3],
      [2, 4],
    ],
  );
});
