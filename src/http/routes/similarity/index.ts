// Compares two stored face crops; missing or stale embeddings are generated (and kept) first.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { DEFAULT_MODEL_NAME } from '../../../models/registry.js';
import type { FaceCropService } from '../../../services/face-crop.service.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { SimilarityBody, SimilarityResponse } from './schema.js';

export interface SimilarityRoutesOptions {
  service: FaceCropService;
}

export const similarityRoutes: FastifyPluginAsync<SimilarityRoutesOptions> = async (app, { service }) => {
  app.post<{ Body: Static<typeof SimilarityBody> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      config: { access: access.read(undefined, { body: { face_crop_ids: 'face-crop' } }) },
      schema: {
        tags: ['similarity'],
        security: apiSecurity,
        summary: 'Cosine similarity of two face crops',
        body: SimilarityBody,
        response: { 200: SimilarityResponse, ...errorResponses },
      },
    },
    async (request) => {
      const [a, b] = request.body.face_crop_ids as [number, number];
      const r = await service.similarity(a, b, {
        modelName: request.body.model_name ?? DEFAULT_MODEL_NAME,
        logFields: { reqId: request.id, actor: request.actor },
      });
      return {
        similarity: r.similarity,
        threshold: r.threshold,
        verified: r.verified,
        model_name: r.modelName,
        model_true_name: r.modelTrueName,
      };
    },
  );
};
