import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng, type Box } from '../../bench/parts/class-scene.js';
import { labelledFace, orderPeople } from '../../bench/parts/class-people.js';
import { layoutTiles, placeBox, sourceRegion, tileSize, type RoomSource } from '../../bench/parts/room-scene.js';

const source = (face: Box, others: Box[] = [], width = 250, height = 250): RoomSource => ({
  file: 'x.jpg',
  identity: 'A',
  face,
  others,
  width,
  height,
});

test('placeBox scales a source box from the region origin and moves it to the tile', () => {
  assert.deepEqual(
    placeBox([100, 80, 50, 60], { x0: 0, y0: 0, left: 1000, top: 500, scale: 0.5 }),
    [1050, 540, 25, 30],
  );
  assert.deepEqual(placeBox([100, 80, 50, 60], { x0: 40, y0: 20, left: 0, top: 0, scale: 2 }), [120, 120, 100, 120]);
});

test('a 250 px LFW photo stays whole; a large portrait is cut to five face widths around its face', () => {
  assert.deepEqual(sourceRegion(source([75, 70, 100, 110])), [0, 0, 250, 250]);
  // 200 px face centred at (1000, 1500) in a 2000x3000 photo: 5 x 200 = 1000 px around it.
  assert.deepEqual(sourceRegion(source([900, 1400, 200, 200], [], 2000, 3000)), [500, 1000, 1000, 1000]);
  // Clamped at the photo's edge.
  assert.deepEqual(sourceRegion(source([0, 0, 200, 200], [], 2000, 3000)), [0, 0, 600, 600]);
});

test('tileSize gives the labelled face the wanted width', () => {
  const t = tileSize({ source: source([75, 70, 100, 110]), faceWidth: 40 });
  assert.equal(t.scale, 0.4);
  assert.deepEqual([t.width, t.height], [100, 100]);
  const placed = placeBox([75, 70, 100, 110], { x0: t.region[0], y0: t.region[1], left: 0, top: 0, scale: t.scale });
  assert.equal(placed[2], 40);
});

test('layoutTiles puts 30 tiles on the canvas without overlap, deterministically for a seed', () => {
  const sizes = Array.from({ length: 30 }, (_, i) => ({ width: 150 + i * 10, height: 180 + i * 8 }));
  const canvas = { width: 4000, height: 3000 };
  const places = layoutTiles(sizes, canvas, rng(7));
  assert.deepEqual(layoutTiles(sizes, canvas, rng(7)), places);
  const rects = places.map((p, i) => [p.left, p.top, sizes[i]!.width, sizes[i]!.height] as const);
  for (const [x, y, w, h] of rects) {
    assert.ok(x >= 0 && y >= 0 && x + w <= canvas.width && y + h <= canvas.height, `${x},${y} off the canvas`);
  }
  for (let i = 0; i < rects.length; i++)
    for (let j = i + 1; j < rects.length; j++) {
      const [a, b] = [rects[i]!, rects[j]!];
      const apart = a[0] + a[2] <= b[0] || b[0] + b[2] <= a[0] || a[1] + a[3] <= b[1] || b[1] + b[3] <= a[1];
      assert.ok(apart, `tiles ${i} and ${j} overlap`);
    }
});

test('layoutTiles refuses a tile larger than its cell', () => {
  assert.throws(() =>
    layoutTiles(
      [
        { width: 3000, height: 100 },
        { width: 10, height: 10 },
      ],
      { width: 4000, height: 3000 },
      rng(1),
    ),
  );
});

test('labelledFace: the centred face for LFW, the largest for a portrait, none when nothing is near the centre', () => {
  const faces = [{ box: [0, 10, 90, 90] as Box }, { box: [80, 75, 90, 100] as Box }, { box: [180, 0, 60, 60] as Box }];
  const size = { width: 250, height: 250 };
  const centred = labelledFace(faces, size, 'centre')!;
  assert.deepEqual(centred.face, [80, 75, 90, 100]);
  assert.deepEqual(
    centred.others.sort((a, b) => a[0] - b[0]),
    [
      [0, 10, 90, 90],
      [180, 0, 60, 60],
    ],
  );
  assert.deepEqual(labelledFace(faces, size, 'largest')!.face, [80, 75, 90, 100]);
  assert.deepEqual(
    labelledFace([{ box: [0, 0, 95, 95] }, { box: [150, 150, 90, 90] }], size, 'largest')!.face,
    [0, 0, 95, 95],
  );
  assert.equal(labelledFace([{ box: [0, 0, 80, 80] }], size, 'centre'), undefined);
  assert.equal(labelledFace([], size, 'largest'), undefined);
});

test('orderPeople: members have two photos or more, photos capped, same order for a seed', () => {
  const people = Array.from({ length: 20 }, (_, i) => ({
    identity: `p${i}`,
    photos: Array.from({ length: (i % 4) + 1 }, (_, k) => `p${i}_${k}.jpg`),
  }));
  const a = orderPeople(people, rng(3), 2);
  assert.deepEqual(orderPeople(people, rng(3), 2), a);
  assert.ok(a.members.length === 15 && a.members.every((p) => p.photos.length === 2));
  assert.equal(a.strangers.length, 20);
  assert.ok(a.strangers.every((p) => p.photos.length >= 1 && p.photos.length <= 2));
  // Strangers come from the other end of the same order, so the first of each differ.
  assert.notEqual(a.strangers[0]!.identity, a.members[0]!.identity);
});
