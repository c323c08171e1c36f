// One aligned chip -> one L2-normalised embedding, optionally averaged with the embedding of the
// mirrored chip (flip-averaging: steadier vectors for small, upsampled faces; twice the inference).
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

export async function embedChip(
  model: { spec: ModelSpec; session: OnnxSession },
  chip: Uint8Array,
  flip: boolean,
): Promise<Float32Array> {
  const { spec, session } = model;
  const once = async (pixels: Uint8Array) => {
    const input = toInputTensor(pixels, spec.input);
    const out = await session.run(input.data, input.dims);
    if (out.data.length !== spec.dimensions)
      throw new ValueError(
        `Model ${spec.name} returned ${out.data.length} values; the registry says ${spec.dimensions}`,
      );
    return l2Normalize(out.data);
  };
  const a = await once(chip);
  if (!flip) return a;
  const b = await once(mirrorRgb(chip, spec.input.size));
  return l2Normalize(a.map((v, i) => v + b[i]!));
}
