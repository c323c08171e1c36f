// Several enrolment photos per person, on LFW dev people with three or more photos: the first two
// are enrolled, the rest are probes. Rules for one score per person: one photo only (the
// baseline), best of the two scores, the mean of the two (the service's "mean of the two best
// faces", src/domain/person-score.ts), the mean template (normalised mean vector), and the two
// scores weighted by face quality (detector score times frontality). Impostors: each person's
// enrolment against every photo of everyone else.
import { poseFromLandmarks } from '../../src/domain/face-quality.js';
import type { FivePoints } from '../../src/domain/face.js';
import type { Lfw } from './lfw-data.js';
import type { EmbeddedSet, FaceRecord } from './lfw-embed.js';
import { ScoreHistogram, tarAt, tarAtFar } from './lfw-metrics.js';
import { dot } from './lfw-scores.js';

export const ENROLMENT_RULES = [
  'one photo',
  'best of two',
  'mean of two scores',
  'mean template',
  'quality-weighted scores',
] as const;
export type EnrolmentRule = (typeof ENROLMENT_RULES)[number];

export interface EnrolmentRow {
  rule: EnrolmentRule;
  people: number;
  genuine: number;
  impostors: number;
  tarAt1e3: number;
  tarAt1e4: number;
  /** At the shipped threshold. */
  tarShipped: number;
  farShipped: number;
}

/** A face's weight: the detector's confidence times cos(yaw) from its five points (1 when unknown). */
export function faceQuality(f: FaceRecord | null | undefined): number {
  if (!f?.detected) return 0.1;
  const frontal =
    f.landmarks && f.landmarks.length >= 5
      ? Math.cos((Math.min(90, Math.abs(poseFromLandmarks(f.landmarks.slice(0, 5) as FivePoints).yaw)) * Math.PI) / 180)
      : 1;
  return (f.score ?? 1) * frontal;
}

export function enrolmentLevers(lfw: Lfw, set: EmbeddedSet, shipped: number): EnrolmentRow[] {
  const d = set.dims;
  const people = lfw.photosOf.map((ids, p) => ({ ids, p })).filter((x) => x.ids.length >= 3);
  const hist = new Map<EnrolmentRule, ScoreHistogram>(ENROLMENT_RULES.map((r) => [r, new ScoreHistogram()]));
  const genuine = new Map<EnrolmentRule, number[]>(ENROLMENT_RULES.map((r) => [r, []]));
  const template = new Float32Array(d);
  for (const { ids, p } of people) {
    const [a, b] = [ids[0]!, ids[1]!];
    template.fill(0);
    for (let k = 0; k < d; k++) template[k] = set.vectors[a * d + k]! + set.vectors[b * d + k]!;
    const norm = Math.hypot(...template) || 1;
    for (let k = 0; k < d; k++) template[k]! /= norm;
    const [qa, qb] = [faceQuality(set.faces[a]), faceQuality(set.faces[b])];
    for (let probe = 0; probe < lfw.photos.length; probe++) {
      if (probe === a || probe === b) continue;
      const sa = dot(set.vectors, a, set.vectors, probe, d);
      const sb = dot(set.vectors, b, set.vectors, probe, d);
      const scores: Record<EnrolmentRule, number> = {
        'one photo': sa,
        'best of two': Math.max(sa, sb),
        'mean of two scores': (sa + sb) / 2,
        'mean template': dot(template, 0, set.vectors, probe, d),
        'quality-weighted scores': (qa * sa + qb * sb) / (qa + qb),
      };
      const same = lfw.person[probe] === p;
      for (const rule of ENROLMENT_RULES) {
        if (same) genuine.get(rule)!.push(scores[rule]);
        else hist.get(rule)!.add(scores[rule]);
      }
    }
  }
  return ENROLMENT_RULES.map((rule) => {
    const g = genuine.get(rule)!;
    const h = hist.get(rule)!;
    return {
      rule,
      people: people.length,
      genuine: g.length,
      impostors: h.total,
      tarAt1e3: tarAtFar(g, h, 1e-3).tar,
      tarAt1e4: tarAtFar(g, h, 1e-4).tar,
      tarShipped: tarAt(g, shipped),
      farShipped: h.rateAtLeast(shipped),
    };
  });
}
