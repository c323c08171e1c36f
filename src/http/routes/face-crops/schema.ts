// Request and response shapes of /api/attendance/face-crops/, and the mappers from service
// results to them. Response schemas also drop anything undeclared.
import { Type, type Static } from '@sinclair/typebox';
import type { FaceQuality } from '../../../domain/face-quality.js';
import type { FaceCrop } from '../../../repositories/face-crop.repository.js';
import type { BatchResult, GeneratedEmbedding } from '../../../services/crop-embedding.service.js';
import type { ListedEmbedding } from '../../../services/face-crop.service.js';
import { DEFAULT_MODEL_NAME } from '../../../models/registry.js';
import { Id } from '../../schemas.js';

const ModelName = Type.String({
  minLength: 1,
  maxLength: 100,
  default: DEFAULT_MODEL_NAME,
  description: 'Model name or alias',
});
const TrueName = Type.String({
  description: "The model's own name in the registry (model_name echoes the name asked for)",
});
const Force = Type.Boolean({
  default: false,
  description: 'Recompute even when an embedding of the current model version exists',
});
const PersonId = Type.Union([Id, Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], {
  description: 'A person id, or an external_id (the person is created when none has it)',
});
const Label = Type.Union([Type.String({ maxLength: 256 }), Type.Null()]);

export const CropParams = Type.Object({ id: Id });

export const ListQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  person_id: Type.Optional(Id),
});

export const RegisterBody = Type.Object({
  image_path: Type.String({ minLength: 1, maxLength: 1024, description: 'Relative to the media root' }),
  person_id: Type.Optional(PersonId),
  label: Type.Optional(Label),
});

/** Documentation of the multipart form; the handler reads and checks the parts itself. */
export const UploadForm = Type.Object({
  image: Type.String({ format: 'binary', description: 'The image; its format is read from its content' }),
  person_id: Type.Optional(
    Type.String({ maxLength: 128, description: 'Digits: a person id; other text: an external_id (created if new)' }),
  ),
  label: Type.Optional(Type.String({ maxLength: 256 })),
});

export const CreateBody = {
  content: {
    'application/json': { schema: RegisterBody },
    'multipart/form-data': { schema: UploadForm },
  },
};

export const GenerateBody = Type.Object({
  model_name: Type.Optional(ModelName),
  force_regenerate: Type.Optional(Force),
});

/** Ids in one synchronous batch; `"async": true` takes up to MAX_JOB_IDS as a job. */
export const MAX_SYNC_BATCH = 1000;
export const BatchBody = Type.Object({
  face_crop_ids: Type.Array(Id, {
    minItems: 1,
    maxItems: 100_000,
    description: `Answered once each, in this order; at most ${MAX_SYNC_BATCH} unless async`,
  }),
  model_name: Type.Optional(ModelName),
  force_regenerate: Type.Optional(Force),
  async: Type.Optional(Type.Boolean({ default: false, description: 'Run as a job: 202 with Location' })),
});

const NullableNumber = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });

/** A face's quality (measured for faces cut from a class photo; null for other crops). */
export const QualityFields = {
  width_px: NullableNumber('Width of the face box in photo pixels'),
  sharpness: NullableNumber('Variance of the Laplacian of the aligned grey face (112 px); higher is sharper'),
  yaw: NullableNumber('Degrees, from the five landmarks; 0 is frontal'),
  roll: NullableNumber('Degrees of the eye line from horizontal'),
};

export const toQuality = (q: FaceQuality) => ({
  width_px: q.widthPx,
  sharpness: q.sharpness,
  yaw: q.yaw,
  roll: q.roll,
});

export const Crop = Type.Object({
  id: Type.Integer(),
  image_path: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  sha256: Type.String(),
  person_id: Type.Union([Type.Integer(), Type.Null()]),
  label: Type.Union([Type.String(), Type.Null()]),
  box: Type.Union([Type.Array(Type.Number(), { minItems: 4, maxItems: 4 }), Type.Null()]),
  source_photo_id: Type.Union([Type.Integer(), Type.Null()]),
  ...QualityFields,
  created_at: Type.String({ format: 'date-time' }),
});

export const CropList = Type.Object({
  count: Type.Integer(),
  next: Type.Union([Type.String(), Type.Null()]),
  previous: Type.Union([Type.String(), Type.Null()]),
  results: Type.Array(Crop),
});

export const CropDetail = Type.Composite([
  Crop,
  Type.Object({
    embeddings: Type.Array(
      Type.Object({
        model_name: Type.String({ description: "The model's public name (its first alias)" }),
        model_true_name: TrueName,
        model_version: Type.String(),
        dimensions: Type.Integer(),
        created_at: Type.String({ format: 'date-time' }),
      }),
    ),
  }),
]);

export const EmbeddingResult = Type.Object({
  face_crop_id: Type.Integer(),
  model_name: Type.String(),
  model_true_name: TrueName,
  model_version: Type.String(),
  dimensions: Type.Integer(),
  embedding: Type.Array(Type.Number()),
  regenerated: Type.Boolean(),
  duration_ms: Type.Number(),
});

export const BatchResponse = Type.Object({
  model_name: Type.String(),
  model_true_name: TrueName,
  results: Type.Array(
    Type.Object({
      face_crop_id: Type.Integer(),
      status: Type.Union([Type.Literal('generated'), Type.Literal('existing'), Type.Literal('failed')]),
      error: Type.Optional(Type.Object({ type: Type.String(), message: Type.String() })),
    }),
  ),
  summary: Type.Object({ generated: Type.Integer(), existing: Type.Integer(), failed: Type.Integer() }),
});

export const toCrop = (c: FaceCrop): Static<typeof Crop> => ({
  id: c.id,
  image_path: c.imagePath,
  width: c.width,
  height: c.height,
  sha256: c.sha256,
  person_id: c.personId,
  label: c.label,
  box: c.box,
  source_photo_id: c.sourcePhotoId,
  ...toQuality(c.quality),
  created_at: c.createdAt,
});

export const toCropDetail = (c: FaceCrop, embeddings: ListedEmbedding[]): Static<typeof CropDetail> => ({
  ...toCrop(c),
  embeddings: embeddings.map((e) => ({
    model_name: e.modelName,
    model_true_name: e.modelTrueName,
    model_version: e.modelVersion,
    dimensions: e.dimensions,
    created_at: e.createdAt,
  })),
});

export const toEmbeddingResult = (e: GeneratedEmbedding): Static<typeof EmbeddingResult> => ({
  face_crop_id: e.faceCropId,
  model_name: e.modelName,
  model_true_name: e.modelTrueName,
  model_version: e.modelVersion,
  dimensions: e.dimensions,
  embedding: Array.from(e.embedding),
  regenerated: e.regenerated,
  duration_ms: e.durationMs,
});

export const toBatchResponse = (b: BatchResult): Static<typeof BatchResponse> => ({
  model_name: b.modelName,
  model_true_name: b.modelTrueName,
  results: b.results.map((r) => ({ face_crop_id: r.faceCropId, status: r.status, ...(r.error && { error: r.error }) })),
  summary: { generated: b.summary.generated, existing: b.summary.existing, failed: b.summary.failed },
});
