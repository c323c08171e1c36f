// The JSON summary bench:accuracy prints for its deepface-unit part: every model and mode's
// figures on both pair files, DeepFace's own Facenet beside them, and whether the targets are met.
import type { DeepfaceUnitRun } from './deepface-unit-run.js';
import { targets } from './deepface-unit-targets.js';

export function deepfaceUnitJson(run: DeepfaceUnitRun, command: string) {
  const { evals, reference: ref } = run;
  return {
    command,
    seconds: Math.round(run.seconds),
    targetsMet: targets(evals.filter((e) => e.mode === 'aligned')).met,
    models: evals.map((e) => ({
      model: e.alias,
      mode: e.mode,
      threshold: e.threshold,
      calibrated: e.calibrated,
      heldOutMasterAtCalibrated: e.heldOutAtCalibrated,
      master: {
        ...e.master.atDefault,
        bestAccuracy: e.master.best.accuracy,
        bestThreshold: e.master.best.threshold,
        auc: e.master.auc,
      },
      pivot: {
        ...e.pivot.atDefault,
        bestAccuracy: e.pivot.best.accuracy,
        bestThreshold: e.pivot.best.threshold,
        bestInterval: [e.pivot.best.low, e.pivot.best.high],
        auc: e.pivot.auc,
      },
      noFace: e.noFace,
      fastPath: e.fastPath,
      failedImages: e.failedImages,
      seconds: Math.round(e.seconds),
    })),
    deepfaceFacenet: {
      ...ref.atDefault,
      bestAccuracy: ref.best.accuracy,
      bestDistance: ref.best.threshold,
      auc: ref.auc,
    },
  };
}
