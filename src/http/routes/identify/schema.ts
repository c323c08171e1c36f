// Request and response shapes of POST /api/attendance/identify/.
import { Type } from '@sinclair/typebox';
import { ATTENDANCE_MODEL_NAME } from '../../../models/registry.js';
import { Id } from '../../schemas.js';

export const DEFAULT_MODEL = ATTENDANCE_MODEL_NAME;
export const MAX_TOP_K = 100;

export const IdentifyJson = Type.Object({
  face_crop_id: Id,
  model_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: DEFAULT_MODEL })),
  group_id: Type.Optional(Id),
  top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TOP_K, default: 3 })),
  threshold: Type.Optional(Type.Number({ minimum: -1, maximum: 1, description: "Default: the model's" })),
});

export const IdentifyForm = Type.Object({
  image: Type.String({ format: 'binary', description: 'Every face in it is identified' }),
  model_name: Type.Optional(Type.String()),
  group_id: Type.Optional(Type.String({ description: 'Decimal' })),
  top_k: Type.Optional(Type.String({ description: 'Decimal' })),
  threshold: Type.Optional(Type.String({ description: 'Decimal' })),
});

export const IdentifyBody = {
  content: {
    'application/json': { schema: IdentifyJson },
    'multipart/form-data': { schema: IdentifyForm },
  },
};

const Match = Type.Object({ person_id: Type.Integer(), name: Type.String(), similarity: Type.Number() });

export const IdentifyResponse = Type.Object({
  model_name: Type.String({ description: 'As asked' }),
  model_true_name: Type.String({ description: "The registry's own name" }),
  threshold: Type.Number({ description: "The model's threshold for full-size faces (or the one asked for)" }),
  faces: Type.Array(
    Type.Object({
      box: Type.Union([Type.Array(Type.Number(), { minItems: 4, maxItems: 4 }), Type.Null()]),
      threshold: Type.Number({
        description: "This face's threshold: the model's for a face of this width, unless one was asked for",
      }),
      score: Type.Union([Type.Number(), Type.Null()], { description: 'Detector confidence' }),
      person_id: Type.Union([Type.Integer(), Type.Null()], { description: 'null: unknown (best below threshold)' }),
      similarity: Type.Union([Type.Number(), Type.Null()], { description: 'Of the best match' }),
      matches: Type.Array(Match),
    }),
  ),
});
