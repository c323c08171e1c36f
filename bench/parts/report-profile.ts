// docs/benchmarks.md's time-breakdown sections: a fresh process's cold start to its first
// embedding, and where a worker spends its time (stages, and each network alone).
import type { BenchResult } from './results.js';
import { f, table } from './report-format.js';

export function coldSection(r: BenchResult): string {
  const c = r.coldStart;
  if (!c) return '';
  return [
    '## Cold start',
    '',
    `\`${c.command}\` in a fresh process: spawn to the embedding's JSON line on stdout. p50 ${f(c.firstEmbeddingMs.p50, 0)} ms`,
    `(runs: ${c.runs.map((v) => f(v, 0)).join(', ')} ms); to process exit ${f(c.exitMs, 0)} ms.`,
  ].join('\n');
}

export function profileSection(r: BenchResult): string {
  const stageNames = [...new Set(r.profile.stages.flatMap((s) => Object.keys(s.stages)))];
  const stageRows = r.profile.stages.map((s) => [
    `\`${s.model}\``,
    s.images,
    s.n,
    ...stageNames.map((k) => (s.stages[k] ? `${f(s.stages[k].median, 2)} (${f(s.stages[k].mean, 2)})` : '')),
    f(s.wallMs, 2),
    f(s.cpuMs, 2),
  ]);
  const nets = r.profile.networks.map((n) => [n.network, n.input, n.threads, f(n.cpuMs, 2), f(n.wallMs, 2)]);
  return [
    '## Profile: where a worker spends its time',
    '',
    "The worker's own code (WorkerRuntime) in a fresh process, one onnxruntime thread, as each pool worker runs by default.",
    'Stage times (ms, median and (mean)) come from the worker\'s `timings`; "tightCrop" is FaceMesh on the whole image (the',
    'tight-crop check, and the landmarks when it is one); "detect" is BlazeFace + FaceMesh and the JS around them (images that are not);',
    "CPU counts every thread of the process (sharp's decode threads and onnxruntime's included).",
    '',
    table(['model', 'images', 'n', ...stageNames, 'wall ms / image', 'CPU ms / image'], stageRows),
    '',
    'Each network alone on onnxruntime-node (ms per run):',
    '',
    table(['network', 'input', 'threads', 'CPU ms', 'wall ms'], nets),
  ].join('\n');
}
