// The small-face tables of docs/accuracy.md: each model's band thresholds calibrated on the dev
// (master) pairs, and every lever on the low-res test rows, side by side: the model's own
// threshold, size-banded thresholds, flip-averaging, score fusion of two models.
import type { ThresholdPolicy } from '../../src/domain/face-threshold.js';
import { ModelRegistry } from '../../src/models/registry.js';
import { errs, f3, LOW_RES_FLIP_MODE, LOW_RES_MODE, pct } from './accuracy-format.js';
import type { Upsampler } from './interpolation.js';
import {
  fusedPairs,
  leverRow,
  policyPairs,
  similaritySpread,
  toBands,
  type BandCalibration,
  type Embeddings,
  type LeverRow,
  type Pair,
} from './small-faces.js';

interface ModelRows {
  alias: string;
  model: string;
  mode: string;
  threshold: number;
  embeddings: Embeddings;
}

/** Per model, per upsampler: the low-res chips cut again in the bench (interpolation.ts), and how far the bilinear control is from the worker. */
export type Upsampled = Map<string, Map<Upsampler, { embeddings: Embeddings; maxDiffFromWorker: number }>>;

/** Fusion pairs: the 128-D face-api network with each of the others. */
const FUSION_WITH = 'facenet';

export function leverTables(
  evals: readonly ModelRows[],
  bands: ReadonlyMap<string, BandCalibration[]>,
  master: readonly Pair[],
  pivot: readonly Pair[],
  opts: { lowRes: { width: number; quality: number }; upsampled: Upsampled },
): string[] {
  const row = (alias: string, mode: string) => evals.find((e) => e.alias === alias && e.mode === mode)!;
  const aliases = [...new Set(evals.map((e) => e.alias))];
  const policy = (alias: string, banded: boolean): ThresholdPolicy => ({
    threshold: row(alias, 'aligned').threshold,
    ...(banded ? { sizeBands: toBands(bands.get(alias) ?? []) } : {}),
  });
  const rows: LeverRow[] = [];
  const decide = (lever: string, alias: string, mode: string, banded: boolean, embeddings?: Embeddings) => {
    const e = row(alias, mode);
    const p = policy(alias, banded);
    const vectors = embeddings ?? e.embeddings;
    rows.push(
      leverRow(lever, `${alias} (${e.model})`, policyPairs(p, vectors, master), policyPairs(p, vectors, pivot)),
    );
  };
  const controls: string[] = [];
  for (const alias of aliases) {
    decide("the model's threshold", alias, LOW_RES_MODE, false);
    decide('size-banded thresholds', alias, LOW_RES_MODE, true);
    decide('flip-averaged, the model threshold', alias, LOW_RES_FLIP_MODE, false);
    decide('flip-averaged, size-banded thresholds', alias, LOW_RES_FLIP_MODE, true);
    for (const [upsampler, u] of opts.upsampled.get(alias) ?? []) {
      if (upsampler === 'bilinear') {
        controls.push(`${alias} ${u.maxDiffFromWorker.toExponential(1)}`);
        continue;
      }
      decide(`upsampled ${upsampler}, the model threshold`, alias, LOW_RES_MODE, false, u.embeddings);
      decide(`upsampled ${upsampler}, size-banded thresholds`, alias, LOW_RES_MODE, true, u.embeddings);
    }
  }
  for (const other of aliases.filter((a) => a !== FUSION_WITH)) {
    for (const banded of [false, true]) {
      for (const mode of [LOW_RES_MODE, LOW_RES_FLIP_MODE]) {
        const members = [FUSION_WITH, other].map((alias) => ({
          policy: policy(alias, banded),
          embeddings: row(alias, mode).embeddings,
          scale: similaritySpread(row(alias, 'aligned').embeddings, pivot),
        }));
        const lever = `fusion${mode === LOW_RES_FLIP_MODE ? ', flip-averaged' : ''}, ${banded ? 'size-banded' : 'model'} thresholds`;
        rows.push(
          leverRow(lever, `${FUSION_WITH} + ${other}`, fusedPairs(members, master), fusedPairs(members, pivot)),
        );
      }
    }
  }
  const registry = new ModelRegistry();
  const shipped = (alias: string, belowWidth: number) => {
    const t = registry.get(alias).sizeBands?.find((b) => b.belowWidth === belowWidth)?.threshold;
    return t === undefined ? 'none' : f3(t);
  };
  const calibration = aliases.flatMap((alias) =>
    (bands.get(alias) ?? []).map(
      (b) =>
        `| ${alias} | ${b.width} | < ${b.belowWidth} | ${b.pairs} | ${f3(b.threshold)} | ${shipped(alias, b.belowWidth)} | ${pct({ accuracy: b.bestAccuracy })} | ${b.auc.toFixed(4)} | ` +
        `${pct(b.atBase)} (${errs(b.atBase)}) | ${f3(b.plain.sameP10)} / ${f3(b.plain.impostorMax)} | ` +
        `${pct({ accuracy: b.matched.bestAccuracy })}, ${b.matched.auc.toFixed(4)}, ${f3(b.matched.sameP10)} / ${f3(b.matched.impostorMax)} |`,
    ),
  );
  return [
    '## Small faces: thresholds per face width (dev data)',
    '',
    "Each photo of master.csv shrunk so that its face (the embedding path's box) is the width shown, saved as JPEG q70, and scored " +
      'against the full-size photo of the other side of each master pair (both orders): the enrolment is full size, the probe small, as in ' +
      'a class photo. The band threshold here is the midpoint of the best-accuracy interval on these 38 same-person pairs, shown for comparison: ' +
      'the shipped bands are chosen at a false-accept rate on LFW dev ("LFW", "Size bands" above). ' +
      '*matched enrolment*: the probe also scored against the enrolment photo degraded the same way, the better of the two counting ' +
      '(a resolution-matched gallery entry): best accuracy, AUC, same-person p10 / impostor max.',
    '',
    '| model | face width px | band | dev pairs | band threshold | shipped | best acc | AUC | acc at the full-size threshold (FA / FR) | same p10 / impostor max | matched enrolment |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...calibration,
    '',
    '## Small faces: levers on the low-res test rows',
    '',
    `Both files' photos shrunk to ${opts.lowRes.width} px wide (JPEG q${opts.lowRes.quality}); none of these pairs chose a threshold. ` +
      "A pair's threshold is the one its smaller face's width gets. *fusion*: one decision from two models, the mean of each model's " +
      '(similarity - its threshold) / the spread of its similarities over the full-size pivot pairs, same person at >= 0; it costs a second embedding per face. ' +
      "*upsampled bicubic / lanczos3*: the same chips cut again in the benchmark from the worker's landmarks, with Keys bicubic sampling, or " +
      'after a libvips Lanczos-3 enlargement of the photo to about one photo pixel per chip pixel (bench/parts/interpolation.ts); ' +
      `the worker samples bilinearly, and the benchmark's own bilinear cut reproduces its vectors to a largest difference of ${controls.join(', ')}.`,
    '',
    '| lever | model | master low-res acc (FA / FR) | pivot low-res acc (FA / FR) | pivot AUC |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.lever} | ${r.model} | ${pct(r.master)} (${errs(r.master)}) | ${pct(r.pivot)} (${errs(r.pivot)}) | ${r.pivotAuc.toFixed(4)} |`,
    ),
    '',
  ];
}
