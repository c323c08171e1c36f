// The targets the deepface-unit part of bench:accuracy is judged against, on the aligned rows
// (the shipped default): the best built-in model on both pair files and its AUC, and the other.
import { f4, pct } from './accuracy-format.js';
import type { Evaluation } from './deepface-unit-run.js';

const TARGET = { best: 0.995, bestAuc: 0.999, other: 0.98 };

/** The targets, judged on the aligned rows: the best model's worst file and AUC, and the other's worst file. */
export function targets(aligned: Evaluation[]): { lines: string[]; met: boolean } {
  const worst = (e: Evaluation) => Math.min(e.master.atDefault.accuracy, e.pivot.atDefault.accuracy);
  const [best, other] = [...aligned].sort((a, b) => worst(b) - worst(a) || b.pivot.auc - a.pivot.auc);
  const bestOk = worst(best!) >= TARGET.best && Math.min(best!.master.auc, best!.pivot.auc) >= TARGET.bestAuc;
  const otherOk = !other || worst(other) >= TARGET.other;
  const lines = [
    `- best built-in, ${best!.alias}: >= ${TARGET.best * 100}% on both files at its shipped threshold and AUC >= ${TARGET.bestAuc}: ` +
      `${pct({ accuracy: worst(best!) })} worst file, AUC ${f4(Math.min(best!.master.auc, best!.pivot.auc))} — ${bestOk ? 'met' : 'MISSED'}`,
    ...(other
      ? [
          `- the other, ${other.alias}: >= ${TARGET.other * 100}% on both files: ${pct({ accuracy: worst(other) })} worst file — ${otherOk ? 'met' : 'MISSED'}`,
        ]
      : []),
  ];
  return { lines, met: bestOk && otherOk };
}
