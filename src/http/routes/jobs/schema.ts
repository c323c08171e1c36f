// Request and response shapes of /api/attendance/jobs/ (docs/api.md "Jobs (long work)").
import { Type, type Static } from '@sinclair/typebox';
import type { BatchResult } from '../../../services/crop-embedding.service.js';
import type { EnrolmentResult, JobFailure } from '../../../services/job-results.js';
import type { JobView } from '../../../services/job.service.js';
import type { PhotoResult } from '../../../services/session-view.js';
import type { PurgeReport } from '../../../services/retention.service.js';
import { PurgeResponse, toPurgeResponse } from '../retention/schema.js';
import { JOB_STATUSES } from '../../../repositories/job-rows.js';
import { Id } from '../../schemas.js';
import { DEFAULT_MODEL_NAME } from '../../../models/registry.js';
import { BatchResponse, toBatchResponse } from '../face-crops/schema.js';
import { PhotoResponse, toPhoto } from '../sessions/schema.js';

/** Ids one job may name (the synchronous batch takes at most 1000). */
export const MAX_JOB_IDS = 100_000;
/** A 100000-id body is about 0.8 MB of JSON. */
export const JOB_BODY_LIMIT = 2 * 1024 * 1024;

const Status = Type.Union(JOB_STATUSES.map((s) => Type.Literal(s)));

export const JobParams = Type.Object({ id: Id });

export const JobListQuery = Type.Object({
  status: Type.Optional(Status),
  page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
});

export const CreateJobBody = Type.Object({
  kind: Type.Literal('generate-embeddings'),
  face_crop_ids: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: MAX_JOB_IDS })),
  all: Type.Optional(Type.Boolean({ description: 'Every face crop stored when the job is created' })),
  model_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: DEFAULT_MODEL_NAME })),
  force_regenerate: Type.Optional(Type.Boolean({ default: false })),
});

/** An item's typed error, as the synchronous call's error body has it (details: e.g. a refused photo's `reason`). */
const ItemError = Type.Object({
  type: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Object({}, { additionalProperties: true })),
});

/** The result of an enrol job (made by `faceembed enrol DIR --job`): one entry per photo, in order. */
export const EnrolmentResponse = Type.Object({
  results: Type.Array(
    Type.Object({
      item: Type.Integer({ description: "The photo's number in the job, 1..total" }),
      image_path: Type.String({ description: 'Relative to the media root' }),
      person_id: Type.Integer(),
      status: Type.Union([Type.Literal('enrolled'), Type.Literal('existing'), Type.Literal('failed')]),
      face_crop_id: Type.Optional(
        Type.Integer({ description: 'The face crop enrolled, or the one that already held these bytes' }),
      ),
      error: Type.Optional(ItemError),
    }),
  ),
  summary: Type.Object({ enrolled: Type.Integer(), existing: Type.Integer(), failed: Type.Integer() }),
});

/** A session-photo job that failed: the typed error the synchronous upload would have answered. */
export const JobFailureResponse = Type.Object({ error: ItemError });

export const JobResponse = Type.Object({
  id: Type.Integer(),
  kind: Type.String({
    description:
      'generate-embeddings, enrol (bulk enrolment from the command line), session-photo (POST sessions/{id}/photos/ with async), or purge (retention)',
  }),
  status: Status,
  // Absent for enrol jobs: enrolment embeds with every registered model.
  model_name: Type.Optional(Type.String()),
  model_true_name: Type.Optional(Type.String()),
  progress: Type.Object({ total: Type.Integer(), done: Type.Integer(), failed: Type.Integer() }),
  created_at: Type.String({ format: 'date-time' }),
  started_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  session_id: Type.Optional(Type.Integer({ description: 'session-photo jobs: the session the photo goes to' })),
  error: Type.Optional(Type.String()),
  result: Type.Optional(
    Type.Union([BatchResponse, EnrolmentResponse, PhotoResponse, PurgeResponse, JobFailureResponse], {
      description:
        "generate-embeddings: the batch shape; enrol: one entry per photo; session-photo: the upload's 201 body, or {error} when it failed; purge: the purge report",
    }),
  ),
});

export const JobList = Type.Object({ count: Type.Integer(), results: Type.Array(JobResponse) });

/** 202 of POST sessions/{id}/photos/ with async: the job as GET jobs/{id}/ shows it, and its id as job_id. */
export const SessionPhotoAccepted = Type.Composite([JobResponse, Type.Object({ job_id: Type.Integer() })]);

export const jobLocation = (id: number) => `/api/attendance/jobs/${id}/`;

const toEnrolmentResponse = (r: EnrolmentResult): Static<typeof EnrolmentResponse> => ({
  results: r.results.map((i) => ({
    item: i.itemId,
    image_path: i.imagePath,
    person_id: i.personId,
    status: i.status,
    ...(i.faceCropId !== undefined && { face_crop_id: i.faceCropId }),
    ...(i.error && { error: i.error }),
  })),
  summary: { enrolled: r.summary.enrolled, existing: r.summary.existing, failed: r.summary.failed },
});

const toResult = (r: BatchResult | EnrolmentResult | PhotoResult | JobFailure | PurgeReport) =>
  'modelName' in r
    ? toBatchResponse(r)
    : 'photoId' in r
      ? toPhoto(r)
      : 'dryRun' in r
        ? toPurgeResponse(r)
        : 'error' in r
          ? { error: r.error }
          : toEnrolmentResponse(r);

export const toJobResponse = (v: JobView): Static<typeof JobResponse> => ({
  id: v.job.id,
  kind: v.job.kind,
  status: v.job.status,
  ...(v.names && { model_name: v.names.modelName, model_true_name: v.names.modelTrueName }),
  progress: v.progress,
  created_at: v.job.createdAt,
  started_at: v.job.startedAt,
  finished_at: v.job.finishedAt,
  ...(v.job.sessionId !== null && { session_id: v.job.sessionId }),
  ...(v.job.error && { error: v.job.error }),
  ...(v.result && { result: toResult(v.result) }),
});
