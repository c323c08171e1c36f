// Synthetic galleries for the search benchmark: face `key` of person ceil(key / facesPerPerson),
// recomputed from (key, seed) on demand so that a million vectors never need to be kept twice.
// `uniform` draws every face in a uniformly random direction (the stress case: no structure for
// a graph to follow); `faces` (face-distribution.ts) draws them the way a model spreads real faces.

export interface SyntheticGallery {
  /** What the benchmark reports: `uniform` or `faces:<model>`. */
  readonly name: string;
  readonly dimensions: number;
  /** Enrolment face `key` (1-based) into `out`. */
  face(key: number, out?: Float32Array): Float32Array;
  /** An identify query for the person of face `key`: what a new photo of them looks like. */
  probe(key: number): Float32Array;
}

/** Standard normal numbers into `out`, the same for a given (key, seed): Box-Muller over mulberry32. */
export function gaussians(key: number, seed: number, out: Float32Array): Float32Array {
  let s = (Math.imul(key, 0x9e3779b1) ^ seed) >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  for (let i = 0; i < out.length; i += 2) {
    const u1 = (next() + 1) / 4294967297;
    const u2 = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** Uniform directions; a probe is its face plus noise, cosine about 0.9 to it. */
export function uniformGallery(dimensions: number, seed: number): SyntheticGallery {
  const face = (key: number, out = new Float32Array(dimensions)) => gaussians(key, seed, out);
  return {
    name: 'uniform',
    dimensions,
    face,
    probe(key) {
      const base = face(key);
      const noise = gaussians(key + 0x7fffffff, seed ^ 0x5bd1e995, new Float32Array(dimensions));
      let nb = 0;
      let nn = 0;
      for (let i = 0; i < dimensions; i++) {
        nb += base[i]! * base[i]!;
        nn += noise[i]! * noise[i]!;
      }
      const scale = 0.48 * Math.sqrt(nb / nn);
      return base.map((x, i) => x + scale * noise[i]!);
    },
  };
}
