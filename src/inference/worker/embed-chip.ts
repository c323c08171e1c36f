// Aligned chips -> L2-normalised embeddings, optionally averaged with the embedding of the
// mirrored chip (flip-averaging: steadier vectors for small, upsampled faces; twice the inference).
// Many chips go through the network as one batch tensor, up to the batch the model's input takes
// (a graph with a fixed batch of 1 runs them one at a time).
import type { Affine } from '../../detect/alignment.js';
import { mirrorRgb } from '../../detect/resample.js';
import { l2Normalize } from '../../domain/vector.js';
import { ValueError } from '../../errors.js';
import { toInputTensor } from '../../models/input-tensor.js';
import type { ModelSpec } from '../../models/registry.js';
import type { FlipMode } from '../protocol.js';
import type { OnnxSession } from './session.js';

/** Whether `mode` flip-averages a chip cut with `toSource` ('upsampled': less than one image pixel per chip pixel). */
export function wantsFlip(mode: FlipMode, toSource: Affine): boolean {
  return mode === 'always' || (mode === 'upsampled' && Math.hypot(toSource[0], toSource[3]) < 1);
}

export interface Chip {
  pixels: Uint8Array;
  flip: boolean;
}

type Model = { spec: ModelSpec; session: OnnxSession };

/**
 * Most chips per network run by default. onnxruntime CPU, 1 thread, ms per face at N = 1 / 8 / 32
 * (unloaded): facenet 3.03 / 2.78 / 2.71, hse-faceres 8.33 / 9.11 / 9.73. A batch's crops run one
 * chip per run (WorkerSettings.chipsPerRun): docs/tight-crops.md measures both on a loaded machine.
 */
export const MAX_CHIPS_PER_RUN = 8;

export async function embedChip(model: Model, chip: Uint8Array, flip: boolean): Promise<Float32Array> {
  return (await embedChips(model, [{ pixels: chip, flip }]))[0]!;
}

/** One embedding per chip, in order; at most `perRun` chips (and the model's declared batch) per network run. */
export async function embedChips(
  model: Model,
  chips: readonly Chip[],
  perRun = MAX_CHIPS_PER_RUN,
): Promise<Float32Array[]> {
  const { spec, session } = model;
  const inputs = chips.flatMap((c) => (c.flip ? [c.pixels, mirrorRgb(c.pixels, spec.input.size)] : [c.pixels]));
  const raw: Float32Array[] = [];
  const limit = Math.max(1, Math.min(session.batchLimit(), perRun));
  for (let i = 0; i < inputs.length; i += limit) {
    const part = inputs.slice(i, i + limit);
    const input = toInputTensor(part, spec.input);
    const out = await session.run(input.data, input.dims);
    const d = spec.dimensions;
    if (out.data.length !== d * part.length)
      throw new ValueError(
        `Model ${spec.name} returned ${out.data.length / part.length} values per image; the registry says ${d}`,
      );
    for (let j = 0; j < part.length; j++) raw.push(out.data.subarray(j * d, (j + 1) * d));
  }
  let k = 0;
  return chips.map((c) => {
    const a = l2Normalize(raw[k++]!);
    if (!c.flip) return a;
    const b = l2Normalize(raw[k++]!);
    return l2Normalize(a.map((v, i) => v + b[i]!));
  });
}
