// docs/benchmarks.md's speed sections: end-to-end batch throughput (library and HTTP), the
// workers x threads splits, warm single-image latency, and the pool against per-request isolation.
import type { BenchResult, ModelResult } from './results.js';
import { eff, f, other, runs, table } from './report-format.js';

function defaultCrops(r: BenchResult, m: ModelResult) {
  return m.library.crops.find((c) => c.split === r.meta.defaultSplit) ?? m.library.crops[0]!;
}

export function throughputSection(r: BenchResult): string {
  const rows = r.models.flatMap((m) => {
    const crops = defaultCrops(r, m);
    return [
      [
        `\`${m.model}\``,
        'full photos',
        `${f(m.library.photos.facesPerSecond)}${runs(m.library.photos)}`,
        `${f(m.http.photos.facesPerSecond)}${runs(m.http.photos)}`,
        `${f((100 * m.http.photos.facesPerSecond) / m.library.photos.facesPerSecond, 0)}%`,
        eff(m.library.photos, m.http.photos),
        `${m.library.photos.faces}`,
        other(m.library.photos, m.http.photos),
      ],
      [
        `\`${m.model}\``,
        'tight crops',
        `${f(crops.facesPerSecond)}${runs(crops)}`,
        `${f(m.http.crops.facesPerSecond)}${runs(m.http.crops)}`,
        `${f((100 * m.http.crops.facesPerSecond) / crops.facesPerSecond, 0)}%`,
        eff(crops, m.http.crops),
        `${crops.faces}`,
        other(crops, m.http.crops),
      ],
    ];
  });
  const errors = r.models.flatMap((m) => m.http.errors.map((e) => `- HTTP errors (${m.model}): ${e}`));
  return [
    '## End-to-end batch throughput (faces/s)',
    '',
    'Library: `EmbeddingService.generateEmbeddingsBatch` on a warm pool. HTTP: `POST /api/attendance/face-crops/generate-embeddings-batch/`',
    'with `force_regenerate: true` against `faceembed serve` (SQLite, log level info, both models preloaded), the same images registered',
    "as crops. Median of the runs listed. Efficiency: the networks' own onnxruntime time (each image's `timings.network`, from the",
    "workers' log lines) over workers x wall time, summed over the runs; 1 would mean the workers did nothing but run the networks.",
    '',
    table(
      [
        'model',
        'images',
        'library',
        'HTTP batch',
        'HTTP / library',
        'efficiency (library / HTTP)',
        'embeddings per run',
        'other (library / HTTP)',
      ],
      rows,
    ),
    ...(errors.length ? ['', ...errors] : []),
  ].join('\n');
}

export function splitsSection(r: BenchResult): string {
  const rows = r.models.flatMap((m) =>
    m.library.crops.map((c) => {
      const single = m.library.single.find((l) => l.split === c.split);
      return [
        `\`${m.model}\``,
        c.split,
        f(c.facesPerSecond),
        f(c.efficiency, 2),
        c.runs.join(', '),
        single ? `${f(single.p50)} / ${f(single.p95)}` : '',
        other(c, ...(single ? [single] : [])),
      ];
    }),
  );
  const best = r.models.map((m) => {
    const top = [...m.library.crops].sort((a, b) => b.facesPerSecond - a.facesPerSecond)[0]!;
    return `\`${m.model}\`: ${top.split}`;
  });
  return [
    '## Workers x threads (tight crops, library)',
    '',
    'FACEEMBED_WORKERS x FACEEMBED_THREADS_PER_WORKER (onnxruntime intra-op threads of each worker): batch throughput and',
    'warm single-image latency (one request at a time) of each split.',
    '',
    table(
      ['model', 'split', 'batch faces/s', 'efficiency', 'runs', 'single p50 / p95 ms', 'other (batch / single)'],
      rows,
    ),
    '',
    `Most faces/s: ${best.join('; ')}.`,
  ].join('\n');
}

export function latencySection(r: BenchResult): string {
  const rows = r.models.map((m) => [
    `\`${m.model}\``,
    f(m.latency.library.p50),
    f(m.latency.library.p95),
    f(m.latency.http.p50),
    f(m.latency.http.p95),
    m.latency.library.n,
    other(m.latency.library, m.latency.http),
  ]);
  return [
    '## Warm single-image latency (tight crops, one request at a time, ms)',
    '',
    'Library: `generateEmbedding` awaited before the next call. HTTP: `POST …/face-crops/{id}/generate-embedding/` with `force_regenerate: true`,',
    'one at a time over a kept-alive connection (includes the database write).',
    '',
    table(['model', 'library p50', 'library p95', 'HTTP p50', 'HTTP p95', 'requests', 'other (library / HTTP)'], rows),
  ].join('\n');
}

export function perRequestSection(r: BenchResult): string {
  const rows = r.models.map((m) => {
    const pr = m.perRequest;
    return [
      `\`${m.model}\``,
      pr.images,
      f(pr.pool.facesPerSecond),
      `${f(pr.throughput.facesPerSecond, 2)} (${pr.concurrency} at a time)`,
      `${f(pr.ratio)}x`,
      f(pr.single.p50, 0),
    ];
  });
  return [
    '## Pool vs per-request isolation (the old design)',
    '',
    "`isolation: 'per-request'` forks a fresh worker process per embedding (load the models, embed, write a result file, exit).",
    'Same crops both ways; the pool figure is a warm pool over that subset.',
    '',
    table(
      ['model', 'crops', 'pool faces/s', 'per-request faces/s', 'pool / per-request', 'per-request single, ms'],
      rows,
    ),
  ].join('\n');
}
