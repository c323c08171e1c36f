// POST /api/attendance/similarity/: cosine similarity of two face crops under one model.
import { Type } from '@sinclair/typebox';
import { DEFAULT_MODEL_NAME } from '../../../models/registry.js';
import { Id } from '../../schemas.js';

export const SimilarityBody = Type.Object({
  face_crop_ids: Type.Array(Id, { minItems: 2, maxItems: 2, description: 'Exactly two face crop ids' }),
  model_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: DEFAULT_MODEL_NAME })),
});

export const SimilarityResponse = Type.Object({
  similarity: Type.Number({ description: 'Cosine similarity in [-1, 1]' }),
  threshold: Type.Number({ description: "The model's default threshold" }),
  verified: Type.Boolean({ description: 'similarity >= threshold' }),
  model_name: Type.String({ description: 'The name asked for' }),
  model_true_name: Type.String({ description: "The model's own name in the registry" }),
});
