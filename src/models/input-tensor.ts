// RGB pixels -> the float tensor a model expects, following its registry InputSpec.
import type { InputSpec } from './registry.js';

/** Each of `chips` is size x size interleaved 8-bit RGB. Returns data and dims of one batch tensor [N, ...]. */
export function toInputTensor(
  chips: Uint8Array | readonly Uint8Array[],
  spec: InputSpec,
): { data: Float32Array; dims: number[] } {
  const list = chips instanceof Uint8Array ? [chips] : chips;
  const n = spec.size * spec.size;
  const data = new Float32Array(n * 3 * list.length);
  list.forEach((rgb, i) => fillInput(rgb, spec, data.subarray(i * n * 3, (i + 1) * n * 3)));
  const dims = spec.layout === 'nhwc' ? [list.length, spec.size, spec.size, 3] : [list.length, 3, spec.size, spec.size];
  return { data, dims };
}

function fillInput(rgb: Uint8Array, spec: InputSpec, data: Float32Array): void {
  const n = spec.size * spec.size;
  if (rgb.length !== n * 3)
    throw new Error(`Expected ${spec.size}x${spec.size} RGB (${n * 3} bytes), got ${rgb.length}`);
  const order = spec.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const src = order[c]!;
    const mean = spec.mean[c]!;
    const scale = 1 / spec.std[c]!;
    if (spec.layout === 'nhwc') {
      for (let i = 0; i < n; i++) data[i * 3 + c] = (rgb[i * 3 + src]! - mean) * scale;
    } else {
      const plane = c * n;
      for (let i = 0; i < n; i++) data[plane + i] = (rgb[i * 3 + src]! - mean) * scale;
    }
  }
}
