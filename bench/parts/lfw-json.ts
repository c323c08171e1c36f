// The JSON summary an LFW run prints: every figure of the docs, none of the score lists.
import type { LfwRun } from './lfw-run.js';
import type { VerificationSummary } from './lfw-verification.js';

const figures = (s: VerificationSummary) => ({
  tenFold: s.tenFold,
  auc: s.auc,
  genuinePairs: s.genuine,
  impostorPairs: s.impostors,
  tarAtFar: s.tarAtFar,
  chosen: s.chosen,
  atChosen: s.atChosen,
});

export function lfwJson(run: LfwRun) {
  return {
    seconds: Math.round(run.seconds),
    fingerprint: run.fingerprint,
    models: run.models.map((m) => ({
      model: m.alias,
      name: m.model,
      version: m.version,
      shipped: m.shipped,
      embed: m.embed,
      ...figures(m.summary),
      atShipped: m.atShipped,
      bands: m.bands,
      identification: m.identification,
      enrolment: m.enrolment,
    })),
    levers: run.levers.map((l) => ({
      lever: l.lever,
      model: l.model,
      cost: l.cost,
      atShipped: l.atShipped,
      ...figures(l.summary),
    })),
  };
}
