// docs/benchmarks.md's face-api section: @vladmandic/face-api's full-photo pipeline measured in the
// same run, and our library throughput over it.
import type { BenchResult } from './results.js';
import { f, table } from './report-format.js';

export function faceapiSection(r: BenchResult): string {
  if (!r.faceapi)
    return '## face-api reference\n\nNot measured in this run (face-api or tfjs-wasm could not be loaded).';
  const ours = r.models.map((m) => [m.model, m.library.photos.facesPerSecond] as const);
  const rows = r.faceapi.rows.map((x) => [
    x.detector === 'tiny' ? 'Tiny detector + 68 landmarks + descriptor' : 'SSD MobileNet + 68 landmarks + descriptor',
    x.photos,
    x.found,
    f(x.facesPerSecond, 2),
    f(x.msPerPhoto.p50, 0),
    f(x.msPerPhoto.p95, 0),
    ...ours.map(([, fps]) => `${f(fps / x.facesPerSecond)}x`),
  ]);
  return [
    '## face-api reference (full photos)',
    '',
    `@vladmandic/face-api on ${r.faceapi.backend} (single-threaded in Node), \`detectSingleFace(...).withFaceLandmarks().withFaceDescriptor()\`,`,
    'default options, photos decoded by sharp at most 1024 px as our worker does; decode included. Ratios: our library throughput on the',
    `full photos (${ours.map(([m, fps]) => `${m} ${f(fps)} faces/s`).join(', ')}) over face-api's. face-api uses one core; per core the ratio is ${r.meta.cores}x smaller.`,
    '',
    table(
      [
        'face-api pipeline',
        'photos',
        'faces found',
        'faces/s',
        'ms p50',
        'ms p95',
        ...ours.map(([m]) => `\`${m}\` / face-api`),
      ],
      rows,
    ),
  ].join('\n');
}
