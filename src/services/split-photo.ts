// A photo's faces from the pool's idle workers at once: each decodes the photo, scans its run of
// detection windows and refits the faces its own merge keeps (ScanPartTask); the shares are merged
// here exactly as one worker merges its windows, so the faces are those of the unsplit 'faces' task.
import type { DetectedFace } from '../domain/face.js';
import { clipToPhoto, dropRefitDuplicates, largestFirst, mergedIndices } from '../detect/photo-scan.js';
import {
  DEFAULT_MAX_FACES,
  type FacesOutput,
  type FacesTask,
  type RefitOutput,
  type RefitTask,
  type ScanPartTask,
  type TaskOutput,
} from '../inference/protocol.js';

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Detection only (no model): `parts` ScanPartTasks through `run`, merged into the 'faces' task's output. */
export async function splitPhotoFaces(
  task: FacesTask,
  parts: number,
  run: <T extends ScanPartTask | RefitTask>(task: T) => Promise<TaskOutput<T>>,
): Promise<FacesOutput> {
  const started = performance.now();
  const { imagePath, minFaceSize } = task;
  const shares = await Promise.all(
    Array.from({ length: parts }, (_, part) =>
      run({ kind: 'scanPart', imagePath, part, parts, ...(minFaceSize === undefined ? {} : { minFaceSize }) }),
    ),
  );
  const t = performance.now();
  // In the plan's window order, as one worker lists them: the merge then breaks score ties alike.
  const found = shares
    .flatMap((s) =>
      s.candidates.map((candidate, i) => ({ candidate, refitted: s.refitted[i]!, window: s.windowOf[i]! })),
    )
    .sort((a, b) => a.window - b.window);
  const { width, height } = shares[0]!;
  const kept = mergedIndices(found.map((f) => f.candidate)).map((i) => found[i]!);
  const merge = performance.now() - t;
  // Kept here but dropped by its own share's merge (rare): refitted now.
  const missing = kept.filter((f) => !f.refitted);
  let refit: RefitOutput | undefined;
  if (missing.length) {
    const faces = missing.map((f) => clipToPhoto(f.candidate, { width, height }));
    refit = await run<RefitTask>({ kind: 'refit', imagePath, faces });
    missing.forEach((f, i) => (f.refitted = refit!.faces[i]!));
  }
  const refitted = kept.map((f): DetectedFace => f.refitted!);
  const faces = largestFirst(dropRefitDuplicates(refitted), task.maxFaces ?? DEFAULT_MAX_FACES);
  // Per stage the slowest share (they run side by side); windows and network time summed.
  const timings: Record<string, number> = {};
  for (const share of shares)
    for (const [stage, ms] of Object.entries(share.timings))
      timings[stage] =
        stage === 'windows' || stage === 'network' ? (timings[stage] ?? 0) + ms : Math.max(timings[stage] ?? 0, ms);
  timings.network = (timings.network ?? 0) + (refit?.timings.network ?? 0);
  Object.assign(timings, {
    merge: round(merge),
    network: round(timings.network),
    workers: parts,
    refits: missing.length,
  });
  return {
    kind: 'faces',
    width,
    height,
    faces,
    durationMs: round(performance.now() - started),
    timings,
  };
}
