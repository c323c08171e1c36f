// A synthetic gallery spread the way a model spreads real faces (src/search/face-stats/<model>.json,
// measured by bench/face-statistics.ts on the dev dataset): identities share a common direction
// (real embeddings are not centred: different people already score well above 0) and differ in a
// few others; each face is its identity's centre plus noise in directions of its own.
//   centre = normalise(a * m + g),  g ~ N(0, I_kb / kb) in kb directions orthogonal to m
//   face   = normalise(centre + s * h),  h ~ N(0, I_kw / kw) in kw further directions
// so that cos(centre_i, centre_j) has mean c = a^2 / (a^2 + 1) and, to first order, spread
// (1 - c) * sqrt((1 + c^2) / kb) (the dot product of the g's and the varying lengths |g|^2), and
// two faces of one identity have cosine w = 1 / (1 + s^2) with spread (1 - w) * sqrt((1 + w^2) / kw).
// a, s, kb, kw are solved from the measured means and spreads.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValueError } from '../errors.js';
import type { FaceStatistics } from './face-statistics.js';
import { gaussians, type SyntheticGallery } from './synthetic-vectors.js';

/** Committed with the code (src/, read from dist/ too): the benchmark needs no dataset. */
export const FACE_STATS_DIR = fileURLToPath(new URL('../../../src/search/face-stats/', import.meta.url));

export interface StoredFaceStatistics extends FaceStatistics {
  model: string;
  aliases: string[];
  dimensions: number;
  /** Faces per identity of the measured set, to reproduce its statistics. */
  identitySizes: number[];
  source: string;
  command: string;
  measured: string;
}

export interface FaceSpread {
  /** Weight of the common direction. */
  common: number;
  /** Directions identities differ in. */
  identityDims: number;
  /** Noise scale of a face around its centre. */
  faceNoise: number;
  /** Directions a face's noise lies in. */
  faceDims: number;
}

/** Solves the generator's parameters from measured statistics, for `dimensions`-D vectors. */
export function faceSpread(stats: FaceStatistics, dimensions: number): FaceSpread {
  const same = stats.sameIdentity.mean; // = 1 / (1 + s^2)
  // Face pairs of two identities score cos(centres) / (1 + s^2); sample centres (a few faces
  // each) shrink the centre cosines by a common factor, so their spread is scaled back by it.
  const between = stats.differentIdentity.mean / same;
  const betweenSd = (stats.betweenCentres.sd * between) / stats.betweenCentres.mean;
  const free = dimensions - 1;
  const identityDims = clampDims(dimsFor(between, betweenSd), free - 1);
  const faceDims = clampDims(dimsFor(same, stats.sameIdentity.sd), free - identityDims);
  return {
    common: Math.sqrt(between / (1 - between)),
    identityDims,
    faceNoise: Math.sqrt(1 / same - 1),
    faceDims,
  };
}

/** Directions that give cosines of mean `mean` the spread `sd` (the first-order spread above). */
const dimsFor = (mean: number, sd: number): number => ((1 - mean) ** 2 * (1 + mean ** 2)) / sd ** 2;
const clampDims = (k: number, max: number): number => Math.max(1, Math.min(max, Math.round(k)));

export function facesGallery(
  stats: StoredFaceStatistics,
  opts: { dimensions: number; facesPerPerson: number; seed: number },
): SyntheticGallery {
  const { dimensions: d, facesPerPerson, seed } = opts;
  const spread = faceSpread(stats, d);
  const basis = orthonormal(1 + spread.identityDims + spread.faceDims, d, seed);
  const [common, ...rest] = basis;
  const identityBasis = rest.slice(0, spread.identityDims);
  const faceBasis = rest.slice(spread.identityDims);
  const coeffs = new Float32Array(Math.max(spread.identityDims, spread.faceDims));
  let cachedPerson = -1;
  const centre = new Float32Array(d);

  const centreOf = (person: number): Float32Array => {
    if (person === cachedPerson) return centre;
    for (let i = 0; i < d; i++) centre[i] = spread.common * common![i]!;
    addCombination(centre, identityBasis, gaussians(person, seed ^ 0x1d3a, coeffs), 1 / Math.sqrt(spread.identityDims));
    normalise(centre);
    cachedPerson = person;
    return centre;
  };
  const draw = (person: number, noiseKey: number, noiseSeed: number, out: Float32Array): Float32Array => {
    out.set(centreOf(person));
    const scale = spread.faceNoise / Math.sqrt(spread.faceDims);
    addCombination(out, faceBasis, gaussians(noiseKey, noiseSeed, coeffs), scale);
    return normalise(out);
  };
  const personOf = (key: number) => Math.ceil(key / facesPerPerson);
  return {
    name: `faces:${stats.aliases[0] ?? stats.model}`,
    dimensions: d,
    face: (key, out = new Float32Array(d)) => draw(personOf(key), key, seed ^ 0x2b7e, out),
    probe: (key) => draw(personOf(key), key, seed ^ 0x7f4a, new Float32Array(d)),
  };
}

/** out += scale * sum_i c[i] * basis[i] */
function addCombination(out: Float32Array, basis: readonly Float32Array[], c: Float32Array, scale: number): void {
  basis.forEach((b, i) => {
    const w = scale * c[i]!;
    for (let j = 0; j < out.length; j++) out[j]! += w * b[j]!;
  });
}

function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const inv = 1 / Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

/** `count` random orthonormal directions (Gram-Schmidt on Gaussian vectors). */
function orthonormal(count: number, d: number, seed: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let k = 0; k < count; k++) {
    const v = gaussians(k + 1, seed ^ 0x4c1f, new Float32Array(d));
    for (const u of out) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += v[i]! * u[i]!;
      for (let i = 0; i < d; i++) v[i]! -= dot * u[i]!;
    }
    out.push(normalise(v));
  }
  return out;
}

/** The stored statistics of a model, by name or alias (`undefined`: the one of `dimensions`). */
export function loadFaceStatistics(model: string | undefined, dimensions: number): StoredFaceStatistics {
  const all = readdirSync(FACE_STATS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(FACE_STATS_DIR, f), 'utf8')) as StoredFaceStatistics);
  const found = model
    ? all.find((s) => s.model === model || s.aliases.includes(model))
    : all.find((s) => s.dimensions === dimensions);
  if (!found) {
    const known = all.map((s) => `${s.aliases[0] ?? s.model} (${s.dimensions}-D)`).join(', ');
    throw new ValueError(
      model
        ? `No face statistics for model "${model}"; stored: ${known}`
        : `No model with ${dimensions}-D embeddings has face statistics: name one (--distribution faces:<model>) of ${known}`,
    );
  }
  return found;
}
