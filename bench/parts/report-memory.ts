// docs/benchmarks.md's memory section: a fresh library process's RSS and V8 heap over a long run,
// sampled, with V8's young generation capped, and with workers recycled often.
import type { BenchResult } from './results.js';
import { f, table } from './report-format.js';

type MemoryRun = NonNullable<BenchResult['memory']>;

function samplesTable(m: MemoryRun, rows = 12): string {
  const step = Math.max(1, Math.ceil(m.workers.samples.length / rows));
  const samples = m.workers.samples.filter((_, i, all) => i % step === 0 || i === all.length - 1);
  return table(
    [
      's',
      'embeddings',
      'parent RSS MiB',
      'parent V8 heap total / used MiB',
      'workers RSS MiB',
      'workers recycled so far',
    ],
    samples.map((s) => [
      f(s.seconds),
      s.done,
      f(s.parentMiB),
      `${f(s.heapTotalMiB)} / ${f(s.heapUsedMiB)}`,
      s.workersMiB.map((v) => f(v, 0)).join(', '),
      s.recycled,
    ]),
  );
}

export function memorySection(r: BenchResult): string {
  const m = r.memory;
  if (!m) return '';
  const p = m.parent;
  const rec = r.recycling;
  return [
    '## Memory',
    '',
    `A fresh library process (the server's role: it owns the pool and never loads a model) embeds ${m.count} tight crops with \`${m.model}\`,`,
    `at most two per worker in flight, after 200 to warm up; workers recycled every ${m.maxJobsPerWorker} jobs as configured.`,
    `${m.failed} failed; ${f(m.facesPerSecond)} faces/s sustained, recycling included.`,
    '',
    table(
      ['library parent', 'MiB'],
      [
        ['RSS when warm', f(p.afterWarmupMiB)],
        [`RSS after ${m.count} more embeddings`, f(p.afterMiB)],
        ['RSS after a forced GC', f(p.afterGcMiB)],
        ['**growth** (after - warm)', f(p.afterMiB - p.afterWarmupMiB)],
        ['V8 heap used, warm / after GC', `${f(p.heapUsedWarmMiB)} / ${f(p.heapUsedAfterGcMiB)}`],
        ['V8 heap reserved (heapTotal), warm / after GC', `${f(p.heapTotalWarmMiB)} / ${f(p.heapTotalAfterGcMiB)}`],
      ],
    ),
    '',
    samplesTable(m),
    '',
    `Workers: highest RSS ${f(m.workers.maxMiB)} MiB; ${m.workers.recycled} recycled.`,
    ...(r.memoryCapped
      ? [
          '',
          `The same service with V8's young generation capped (\`node ${r.memoryCapped.flags.join(' ')}\`, e.g. through NODE_OPTIONS):`,
          '',
          table(
            ['parent', 'RSS warm', `RSS after ${r.memoryCapped.count} embeddings`, 'growth', 'faces/s'],
            [
              [
                'default V8 flags (the run above)',
                f(p.afterWarmupMiB),
                f(p.halfwayMiB),
                f(p.halfwayMiB - p.afterWarmupMiB),
                f(m.facesPerSecond),
              ],
              [
                r.memoryCapped.flags.join(' '),
                f(r.memoryCapped.parent.afterWarmupMiB),
                f(r.memoryCapped.parent.afterMiB),
                f(r.memoryCapped.parent.afterMiB - r.memoryCapped.parent.afterWarmupMiB),
                f(r.memoryCapped.facesPerSecond),
              ],
            ],
          ),
        ]
      : []),
    ...(rec
      ? [
          '',
          `### Worker RSS with frequent recycling (FACEEMBED_MAX_JOBS_PER_WORKER=${rec.maxJobsPerWorker})`,
          '',
          `${rec.count} embeddings (\`${rec.model}\`); ${rec.workers.recycled} workers recycled, ${rec.failed} failed, ${f(rec.facesPerSecond)} faces/s including the`,
          `replacements' boot; highest worker RSS ${f(rec.workers.maxMiB)} MiB; parent RSS ${f(rec.parent.afterWarmupMiB)} -> ${f(rec.parent.afterMiB)} MiB.`,
          '',
          samplesTable(rec, 16),
        ]
      : []),
  ].join('\n');
}
