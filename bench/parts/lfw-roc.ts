// The ROC image of an LFW run: one curve per model, its shipped threshold marked, our 10-fold
// accuracies beside the published ones.
import { PUBLISHED } from './lfw-report.js';
import type { LfwRun } from './lfw-run.js';
import { rocSvg, writeRocPng, type PlotCurve } from './lfw-plot.js';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

export async function rocImage(run: LfwRun, file: string): Promise<void> {
  const curves: PlotCurve[] = run.models.map((m, i) => ({
    label: `${m.alias} (${m.model})`,
    colour: COLOURS[i % COLOURS.length]!,
    points: m.roc,
    shipped: { far: m.atShipped.far, tar: m.atShipped.tar, threshold: m.shipped.threshold },
  }));
  const notes = run.models.map((m) => ({
    label: m.alias,
    ours: `${(m.summary.tenFold.mean * 100).toFixed(2)} +- ${(m.summary.tenFold.std * 100).toFixed(2)}%`,
    published: PUBLISHED[m.model]?.replace(/ \(.*\)$/, '') ?? 'none',
  }));
  const genuine = run.models[0]?.summary.genuine ?? 0;
  const impostors = run.models[0]?.summary.impostors ?? 0;
  const title = `LFW dev: ${run.lfw.photos.length} photos, ${genuine} same-person and ${impostors} different-person pairs`;
  await writeRocPng(file, rocSvg(curves, notes, title));
}
