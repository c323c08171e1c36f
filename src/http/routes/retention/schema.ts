// Shapes of /api/attendance/retention/ and of a purge's report (also a purge job's result).
import { Type, type Static } from '@sinclair/typebox';
import type { RetentionSchedule } from '../../../config/config.js';
import type { LastPurge, PurgeReport } from '../../../services/retention.service.js';
import { purgeReportJson } from '../../../services/retention.service.js';

const Days = Type.Union([Type.Integer(), Type.Null()], { description: 'Days kept; null: kept until erased' });

export const ScheduleBody = Type.Object({
  photos_days: Days,
  session_faces_days: Days,
  unknown_faces_days: Days,
});

const Counts = Type.Object({
  photos: Type.Integer({ description: 'Class photos whose file went (their rows stay, marked purged)' }),
  face_crops: Type.Integer(),
  embeddings: Type.Integer(),
  cluster_faces: Type.Integer(),
  files: Type.Integer({ description: 'Files deleted from disk (dry run: that would be deleted)' }),
});

const Instant = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const PurgeResponse = Type.Object({
  dry_run: Type.Boolean(),
  schedule: ScheduleBody,
  cutoffs: Type.Object({ photos: Instant, session_faces: Instant, unknown_faces: Instant }),
  removed: Counts,
  at: Type.String({ format: 'date-time' }),
});

export const RetentionBody = Type.Object({
  schedule: ScheduleBody,
  interval_hours: Type.Integer({ description: 'Scheduled purges run at start and then this often' }),
  enforced: Type.Boolean({ description: 'false: nothing has a retention period, no purge is scheduled' }),
  last_purge: Type.Union([
    Type.Object({
      at: Type.String({ format: 'date-time' }),
      actor: Type.String(),
      removed: Type.Union([Counts, Type.Null()]),
    }),
    Type.Null(),
  ]),
});

export const PurgeBody = Type.Object({
  dry_run: Type.Optional(
    Type.Boolean({ description: 'true: answer (200) what a purge would remove now, remove nothing' }),
  ),
});

export const toSchedule = (s: RetentionSchedule): Static<typeof ScheduleBody> => ({
  photos_days: s.photosDays,
  session_faces_days: s.sessionFacesDays,
  unknown_faces_days: s.unknownFacesDays,
});

export const toPurgeResponse = (r: PurgeReport): Static<typeof PurgeResponse> => purgeReportJson(r);

export const toRetention = (
  schedule: RetentionSchedule,
  enforced: boolean,
  intervalHours: number,
  last: LastPurge | null,
): Static<typeof RetentionBody> => ({
  schedule: toSchedule(schedule),
  interval_hours: intervalHours,
  enforced,
  last_purge: last && {
    at: last.at,
    actor: last.actor,
    removed: (last.removed ?? null) as Static<typeof Counts> | null,
  },
});
