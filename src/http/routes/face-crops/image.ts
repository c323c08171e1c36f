// GET /api/attendance/face-crops/{id}/image: the crop's image bytes, for thumbnails in the web
// app. The type comes from the stored extension (uploads are named after their stored format);
// the bytes are decrypted when the media are encrypted at rest.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { FaceCropService } from '../../../services/face-crop.service.js';
import { IMAGE_BYTES, sendStoredImage } from '../../stored-image.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { CropParams } from './schema.js';

export const faceCropImageRoute: FastifyPluginAsync<{ service: FaceCropService }> = async (app, { service }) => {
  app.get<{ Params: Static<typeof CropParams> }>(
    '/:id/image',
    {
      config: { access: access.read({ id: 'face-crop' }) },
      schema: {
        tags: ['face-crops'],
        security: apiSecurity,
        summary: "The face crop's image file",
        params: CropParams,
        response: {
          200: IMAGE_BYTES,
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { file, data } = await service.cropImageData(request.params.id);
      return sendStoredImage(reply, file.absPath, data);
    },
  );
};
