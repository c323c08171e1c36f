// Chips through the network as one batch tensor: the same vectors as one chip at a time, and a
// model whose input declares a fixed batch of 1 runs its chips one by one (real ONNX sessions).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { embedChip, embedChips } from '../../src/inference/worker/embed-chip.js';
import { OnnxSession } from '../../src/inference/worker/session.js';
import { GraphBuilder } from '../../src/models/onnx/graph-builder.js';
import type { ModelSpec } from '../../src/models/registry.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-embed-chips-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A 4x4 NCHW "embedding network": the mean of each channel, minus 0.5 so the vector's direction depends on the chip. */
async function meanModel(batch: number | string): Promise<OnnxSession> {
  const g = new GraphBuilder('channel-mean');
  const x = g.input('input', [batch, 3, 4, 4]);
  const mean = g.op('ReduceMean', [x], { axes: [2, 3], keepdims: 0 });
  g.node('Sub', [mean, g.constant('half', new Float32Array([0.5]), [1])], {}, { outputs: ['embedding'] });
  g.output('embedding', [batch, 3]);
  const file = path.join(dir, `mean-${batch}.onnx`);
  await writeFile(file, g.toBytes());
  return OnnxSession.load(file, { threads: 1 }, {});
}

const spec = {
  name: 'channel-mean',
  dimensions: 3,
  input: { size: 4, layout: 'nchw', channelOrder: 'rgb', mean: [0, 0, 0], std: [255, 255, 255] },
} as unknown as ModelSpec;

const chip = (r: number, g: number, b: number) => Uint8Array.from({ length: 48 }, (_, i) => [r, g, b][i % 3]!);

test('a batch gives each chip the vector it gets alone; a fixed batch of 1 is run one chip at a time', async () => {
  const chips = [chip(255, 0, 0), chip(0, 255, 40), chip(10, 20, 250)];
  for (const batch of ['batch', 1] as const) {
    const session = await meanModel(batch);
    try {
      assert.equal(session.batchLimit(), batch === 1 ? 1 : Infinity);
      const together = await embedChips({ spec, session }, [
        { pixels: chips[0]!, flip: false },
        { pixels: chips[1]!, flip: true },
        { pixels: chips[2]!, flip: false },
      ]);
      const alone = [await embedChip({ spec, session }, chips[0]!, false)];
      alone.push(
        await embedChip({ spec, session }, chips[1]!, true),
        await embedChip({ spec, session }, chips[2]!, false),
      );
      for (let i = 0; i < 3; i++) {
        const expected = [...chips[i]!.subarray(0, 3)].map((v) => v / 255 - 0.5);
        const norm = Math.hypot(...expected);
        together[i]!.forEach((v, k) =>
          assert.ok(Math.abs(v - expected[k]! / norm) < 1e-6, `batch ${batch}, chip ${i}`),
        );
        assert.deepEqual([...together[i]!], [...alone[i]!]);
      }
    } finally {
      await session.release();
    }
  }
});
