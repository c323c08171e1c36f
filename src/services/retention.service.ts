// The retention schedule enforced (docs/privacy.md): class photo files, session faces
// that are nobody's enrolment face, and unknown faces, each kept its configured number of days
// (unset: kept). A purge removes what is past its time: face crops with their embeddings,
// cluster memberships and files; class photo files (the photo's row stays, marked purged).
// Enrolment faces are never purged (they go by erasure). Audited (action `purged`) with counts.
// A dry run does the same deletes in a transaction it rolls back: its counts are exact.
import type { RetentionSchedule } from '../config/config.js';
import type { PrivacyRepository } from '../repositories/privacy.repository.js';
import type { ErasureService } from './erasure.service.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Scheduled purges: at start, then this often. */
export const PURGE_INTERVAL_HOURS = 24;

export interface PurgeCounts {
  /** Class photos whose file went. */
  photos: number;
  faceCrops: number;
  embeddings: number;
  clusterFaces: number;
  /** Files deleted from disk (photos and crops); in a dry run, the files that would go. */
  files: number;
}

export interface PurgeReport {
  dryRun: boolean;
  schedule: RetentionSchedule;
  /** What was stored before these instants went (null: that kind is kept). */
  cutoffs: { photos: string | null; sessionFaces: string | null; unknownFaces: string | null };
  removed: PurgeCounts;
  at: string;
}

export interface LastPurge {
  at: string;
  actor: string;
  removed: unknown;
}

export interface RetentionServiceDeps {
  privacy: PrivacyRepository;
  erasure: Pick<ErasureService, 'removeUnowned'>;
  files: { exists(relPath: string): Promise<boolean> };
  schedule: RetentionSchedule;
}

/** Thrown inside a dry run's transaction to roll it back, carrying what it found. */
class DryRun {
  constructor(readonly report: PurgeReport) {}
}

const cutoff = (days: number | null, now: number): Date | null =>
  days === null ? null : new Date(now - days * DAY_MS);

export class RetentionService {
  constructor(private readonly deps: RetentionServiceDeps) {}

  get schedule(): RetentionSchedule {
    return this.deps.schedule;
  }

  /** True when some kind of data has a retention period (a purge has work to look for). */
  get enforced(): boolean {
    const s = this.deps.schedule;
    return s.photosDays !== null || s.sessionFacesDays !== null || s.unknownFacesDays !== null;
  }

  async lastPurge(): Promise<LastPurge | null> {
    const e = await this.deps.privacy.lastEvent('purged');
    return e ? { at: e.at, actor: e.actor, removed: (e.after as { removed?: unknown } | null)?.removed ?? null } : null;
  }

  async purge(opts: { dryRun: boolean; actor: string; now?: Date }): Promise<PurgeReport> {
    const { privacy, erasure, files, schedule } = this.deps;
    const now = (opts.now ?? new Date()).getTime();
    const photosCut = cutoff(schedule.photosDays, now);
    const facesCut = cutoff(schedule.sessionFacesDays, now);
    const unknownCut = cutoff(schedule.unknownFacesDays, now);
    const report = (removed: PurgeCounts): PurgeReport => ({
      dryRun: opts.dryRun,
      schedule,
      cutoffs: {
        photos: photosCut?.toISOString() ?? null,
        sessionFaces: facesCut?.toISOString() ?? null,
        unknownFaces: unknownCut?.toISOString() ?? null,
      },
      removed,
      at: new Date().toISOString(),
    });
    let outcome: { counts: Omit<PurgeCounts, 'files'>; paths: string[] };
    try {
      outcome = await privacy.transaction(async (trx) => {
        const ids = new Set<number>();
        if (facesCut) for (const id of await trx.sessionFacesBefore(facesCut, false)) ids.add(id);
        if (unknownCut) for (const id of await trx.sessionFacesBefore(unknownCut, true)) ids.add(id);
        const faces = await trx.removeFaces([...ids]);
        const photos = photosCut ? await trx.photosBefore(photosCut) : [];
        const purged = await trx.markPhotosPurged(photos.map((p) => p.id));
        const paths = [...new Set([...faces.paths, ...photos.map((p) => p.imagePath)])];
        const counts = {
          photos: purged,
          faceCrops: faces.faceCrops,
          embeddings: faces.embeddings,
          clusterFaces: faces.clusterFaces,
        };
        if (opts.dryRun) {
          const kept = await trx.referencedPaths(paths);
          let n = 0;
          for (const p of paths) if (!kept.has(p) && (await files.exists(p))) n++;
          throw new DryRun(report({ ...counts, files: n }));
        }
        return { counts, paths };
      });
    } catch (err) {
      if (err instanceof DryRun) return err.report;
      throw err;
    }
    const done = report({ ...outcome.counts, files: await erasure.removeUnowned(outcome.paths) });
    await privacy.audit.append([
      {
        actor: opts.actor,
        action: 'purged',
        sessionId: null,
        personId: null,
        personName: null,
        faceCropId: null,
        before: null,
        after: { removed: purgeCounts(done.removed), cutoffs: done.cutoffs },
        note: null,
      },
    ]);
    return done;
  }
}

/** The report as answers, job results and the CLI spell it. */
export const purgeReportJson = (r: PurgeReport) => ({
  dry_run: r.dryRun,
  schedule: {
    photos_days: r.schedule.photosDays,
    session_faces_days: r.schedule.sessionFacesDays,
    unknown_faces_days: r.schedule.unknownFacesDays,
  },
  cutoffs: { photos: r.cutoffs.photos, session_faces: r.cutoffs.sessionFaces, unknown_faces: r.cutoffs.unknownFaces },
  removed: purgeCounts(r.removed),
  at: r.at,
});

/** The counts as answers and the audit trail spell them. */
export const purgeCounts = (r: PurgeCounts) => ({
  photos: r.photos,
  face_crops: r.faceCrops,
  embeddings: r.embeddings,
  cluster_faces: r.clusterFaces,
  files: r.files,
});
