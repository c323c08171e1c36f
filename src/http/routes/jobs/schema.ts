// Request and response shapes of /api/attendance/jobs/ (CONTRACT "Jobs (long work)").
import { Type, type Static } from '@sinclair/typebox';
import type { JobView } from '../../../services/job.service.js';
import { Id } from '../../schemas.js';
import { DEFAULT_MODEL_NAME } from '../../../models/registry.js';
import { BatchResponse, toBatchResponse } from '../face-crops/schema.js';

/** Ids one job may name (the synchronous batch takes at most 1000). */
export const MAX_JOB_IDS = 100_000;
/** A 100000-id body is about 0.8 MB of JSON. */
export const JOB_BODY_LIMIT = 2 * 1024 * 1024;

const Status = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('completed'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
]);

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

export const JobResponse = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  status: Status,
  model_name: Type.String(),
  model_true_name: Type.String(),
  progress: Type.Object({ total: Type.Integer(), done: Type.Integer(), failed: Type.Integer() }),
  created_at: Type.String({ format: 'date-time' }),
  started_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  error: Type.Optional(Type.String()),
  result: Type.Optional(BatchResponse),
});

export const JobList = Type.Object({ count: Type.Integer(), results: Type.Array(JobResponse) });

export const jobLocation = (id: number) => `/api/attendance/jobs/${id}/`;

export const toJobResponse = (v: JobView): Static<typeof JobResponse> => ({
  id: v.job.id,
  kind: v.job.kind,
  status: v.job.status,
  model_name: v.names.modelName,
  model_true_name: v.names.modelTrueName,
  progress: v.progress,
  created_at: v.job.createdAt,
  started_at: v.job.startedAt,
  finished_at: v.job.finishedAt,
  ...(v.job.error && { error: v.job.error }),
  ...(v.result && { result: toBatchResponse(v.result) }),
});
