// A built-in fed its colour channels the other way round (RGB <-> BGR): the same weights file
// registered as a user model (FACEEMBED_MODELS_CONFIG) whose only difference is the channel
// order, so the LFW part can embed and score it like the shipped model. Which order a network was
// trained on is not always stated by whoever ships it; this measures it.
import { deepStrictEqual } from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { modelFile } from '../../src/models/prepare.js';
import { ModelRegistry, type ModelSpec } from '../../src/models/registry.js';

export interface ChannelVariant {
  /** The variant's model name (the built-in's with the order appended). */
  name: string;
  channelOrder: 'rgb' | 'bgr';
  /** The models file registering it. */
  modelsConfig: string;
}

/** Writes the models file of `spec` with its channels swapped into `dir`. */
export async function swappedChannels(spec: ModelSpec, dir: string): Promise<ChannelVariant> {
  const channelOrder = spec.input.channelOrder === 'rgb' ? 'bgr' : 'rgb';
  const name = `${spec.name}-${channelOrder}`;
  const { path: weights } = await modelFile(spec, loadConfig().modelsDir);
  const modelsConfig = path.join(dir, `${name}.json`);
  const entry = {
    name,
    path: weights,
    dimensions: spec.dimensions,
    input_size: spec.input.size,
    layout: spec.input.layout,
    channel_order: channelOrder,
    mean: spec.input.mean,
    std: spec.input.std,
    ...(spec.output === undefined ? {} : { output: spec.output }),
    alignment: spec.alignment.kind,
    threshold: spec.threshold,
  };
  await writeFile(modelsConfig, JSON.stringify({ models: [entry] }));
  // Nothing but the channel order may differ from the built-in, or the measurement measures something else.
  const variant = ModelRegistry.load(modelsConfig).get(name);
  deepStrictEqual(
    { ...variant.input, channelOrder: spec.input.channelOrder, alignment: variant.alignment, output: variant.output },
    { ...spec.input, alignment: spec.alignment, output: spec.output },
  );
  return { name, channelOrder, modelsConfig };
}
