// Open-set identification on LFW dev (Best-Rowden & Jain's protocol): a gallery of G people, one
// enrolment photo each; mated probes are the enrolled people's other photos, non-mated probes every
// photo of the people left out. A probe's answer is its best-scoring enrolment. FAR = non-mated
// probes whose top score passes; DIR = mated probes whose top match is right and passes. Random
// splits (seeded) are pooled so that even the 2000-person gallery has enough people left out.
import type { Lfw } from './lfw-data.js';
import { openSetAt, openSetAtFar, type OpenSetPoint, type Search } from './lfw-metrics.js';
import type { SimilarityMatrix } from './lfw-scores.js';
import { random } from '../detection/canvas.js';
import { shuffle } from './class-scene.js';

export const GALLERY_SIZES = [100, 1000, 2000] as const;
export const SPLITS = 20;
export const ID_FARS = [1e-2, 1e-3] as const;

export interface IdentificationResult {
  gallery: number;
  splits: number;
  mated: number;
  nonMated: number;
  /** Mated probes whose best match is their own person, whatever the score (closed-set rank 1). */
  rank1: number;
  atFar: OpenSetPoint[];
  /** At the model's shipped threshold (accepted at >= it, as the service does). */
  atShipped: OpenSetPoint;
}

/** The searches of one split: every probe's best enrolment. */
function split(lfw: Lfw, sim: SimilarityMatrix, size: number, rnd: () => number) {
  const people = shuffle(
    lfw.people.map((_, p) => p),
    rnd,
  );
  const enrolled = people.slice(0, size);
  const enrolment = enrolled.map((p) => {
    const ids = lfw.photosOf[p]!;
    return ids[Math.floor(rnd() * ids.length)]!;
  });
  const enrolledSet = new Set(enrolment);
  const mated: Search[] = [];
  const nonMated: number[] = [];
  const inGallery = new Set(enrolled);
  for (let probe = 0; probe < lfw.photos.length; probe++) {
    if (enrolledSet.has(probe)) continue;
    let best = -Infinity;
    let bestPerson = -1;
    for (let g = 0; g < enrolment.length; g++) {
      const s = sim.at(probe, enrolment[g]!);
      if (s > best) {
        best = s;
        bestPerson = enrolled[g]!;
      }
    }
    const person = lfw.person[probe]!;
    if (inGallery.has(person)) mated.push({ score: best, correct: bestPerson === person });
    else nonMated.push(best);
  }
  return { mated, nonMated };
}

export function identification(lfw: Lfw, sim: SimilarityMatrix, shipped: number, seed = 27): IdentificationResult[] {
  return GALLERY_SIZES.filter((g) => g < lfw.people.length).map((gallery) => {
    const rnd = random(seed + gallery);
    const mated: Search[] = [];
    const nonMated: number[] = [];
    for (let s = 0; s < SPLITS; s++) {
      const r = split(lfw, sim, gallery, rnd);
      mated.push(...r.mated);
      nonMated.push(...r.nonMated);
    }
    return {
      gallery,
      splits: SPLITS,
      mated: mated.length,
      nonMated: nonMated.length,
      rank1: mated.filter((m) => m.correct).length / mated.length,
      atFar: ID_FARS.map((far) => openSetAtFar(mated, nonMated, far)),
      atShipped: openSetAt(mated, nonMated, shipped, NaN, true),
    };
  });
}
