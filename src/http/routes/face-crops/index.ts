// /api/attendance/face-crops/: register or upload crops, list, read, delete, and generate
// their embeddings one at a time or in batches. Handlers translate; the service decides.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { NotFoundError, ValidationError } from '../../../errors.js';
import { DEFAULT_MODEL_NAME } from '../../../models/registry.js';
import type { FaceCropService } from '../../../services/face-crop.service.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { groupScope } from '../../../services/access.service.js';
import {
  BatchBody,
  BatchResponse,
  CreateBody,
  Crop,
  CropDetail,
  CropList,
  CropParams,
  EmbeddingResult,
  GenerateBody,
  ListQuery,
  MAX_SYNC_BATCH,
  RegisterBody,
  toBatchResponse,
  toCrop,
  toCropDetail,
  toEmbeddingResult,
} from './schema.js';
import { faceCropImageRoute } from './image.js';
import { createFromMultipart } from './upload.js';
import type { JobService } from '../../../services/job.service.js';
import { requireJobs } from '../jobs/index.js';
import { JOB_BODY_LIMIT, JobResponse, jobLocation, toJobResponse } from '../jobs/schema.js';

export interface FaceCropRoutesOptions {
  service: FaceCropService;
  /** For `"async": true` batches. */
  jobs?: JobService;
}

const tags = ['face-crops'];
const logFields = (request: FastifyRequest) => ({ reqId: request.id, actor: request.actor });

/** Django REST Framework style page links: same URL, other page. */
function pageLink(request: FastifyRequest, page: number | null): string | null {
  if (page === null) return null;
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  url.searchParams.set('page', String(page));
  return url.toString();
}

export const faceCropRoutes: FastifyPluginAsync<FaceCropRoutesOptions> = async (app, { service, jobs }) => {
  await app.register(faceCropImageRoute, { service });

  app.post<{ Body: Static<typeof RegisterBody> | undefined }>(
    '/',
    {
      // Registered once, with the slash as in Django; ignoreTrailingSlash serves the bare form.
      prefixTrailingSlash: 'slash',
      // A path may name any file under the media root, another group's photo too; teachers
      // enrol through persons/{id}/faces/.
      config: { multipart: true, access: access.admin },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'Register a face crop',
        description:
          'JSON {image_path} names a file already under the media root; multipart field `image` uploads one.',
        body: CreateBody,
        response: { 201: Crop, ...errorResponses },
      },
    },
    async (request, reply) => {
      let crop;
      if (request.isMultipart()) {
        crop = await createFromMultipart(request, service);
      } else {
        const body = request.body;
        if (!body)
          throw new ValidationError('Send JSON {"image_path": …} or a multipart form with a file field "image"');
        crop = await service.registerCrop(body.image_path, {
          personId: body.person_id,
          label: body.label,
        });
      }
      return reply.code(201).send(toCrop(crop));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      config: { access: access.read(undefined, { query: { person_id: 'person' } }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: "List face crops (a teacher or reader key: its groups' members and session faces)",
        querystring: ListQuery,
        response: { 200: CropList, ...errorResponses },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50, person_id: personId } = request.query;
      const groupIds = groupScope(request.caller);
      const { count, crops } = await service.listCrops({ page, pageSize, personId, groupIds });
      // As in Django REST Framework, a page past the end is an error, not an empty list.
      if (page > 1 && crops.length === 0) throw new NotFoundError('Invalid page.', { page, count });
      return {
        count,
        next: pageLink(request, page * pageSize < count ? page + 1 : null),
        previous: pageLink(request, page > 1 ? page - 1 : null),
        results: crops.map(toCrop),
      };
    },
  );

  app.get<{ Params: Static<typeof CropParams> }>(
    '/:id/',
    {
      config: { access: access.read({ id: 'face-crop' }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'A face crop and its embeddings',
        params: CropParams,
        response: { 200: CropDetail, ...errorResponses },
      },
    },
    async (request) => {
      const { crop, embeddings } = await service.getCrop(request.params.id);
      return toCropDetail(crop, embeddings);
    },
  );

  app.delete<{ Params: Static<typeof CropParams> }>(
    '/:id/',
    {
      config: { access: access.write({ id: 'face-crop' }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'Delete a face crop and its embeddings',
        params: CropParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await service.deleteCrop(request.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Static<typeof CropParams>; Body: Static<typeof GenerateBody> }>(
    '/:id/generate-embedding/',
    {
      config: { access: access.write({ id: 'face-crop' }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'Generate (or return the stored) embedding of a face crop',
        params: CropParams,
        body: GenerateBody,
        response: { 200: EmbeddingResult, ...errorResponses },
      },
    },
    async (request) => {
      const result = await service.generateEmbedding(request.params.id, {
        modelName: request.body.model_name ?? DEFAULT_MODEL_NAME,
        force: request.body.force_regenerate ?? false,
        logFields: logFields(request),
      });
      return toEmbeddingResult(result);
    },
  );

  app.post<{ Body: Static<typeof BatchBody> }>(
    '/generate-embeddings-batch/',
    {
      bodyLimit: JOB_BODY_LIMIT,
      config: {
        access: access.write(undefined, { body: { face_crop_ids: 'face-crop' }, jobItems: 'face_crop_ids' }),
      },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'Generate embeddings for many face crops; one failure never fails the others',
        body: BatchBody,
        response: { 200: BatchResponse, 202: JobResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.async) {
        const view = await requireJobs(jobs).create({
          kind: 'generate-embeddings',
          faceCropIds: body.face_crop_ids,
          modelName: body.model_name ?? DEFAULT_MODEL_NAME,
          force: body.force_regenerate ?? false,
          actor: request.actor,
        });
        return reply.code(202).header('Location', jobLocation(view.job.id)).send(toJobResponse(view));
      }
      if (body.face_crop_ids.length > MAX_SYNC_BATCH) {
        throw new ValidationError(
          `face_crop_ids: at most ${MAX_SYNC_BATCH} ids in a synchronous batch (send "async": true for more)`,
          { errors: [{ field: 'face_crop_ids', message: `must NOT have more than ${MAX_SYNC_BATCH} items` }] },
        );
      }
      const result = await service.generateBatch(request.body.face_crop_ids, {
        modelName: request.body.model_name ?? DEFAULT_MODEL_NAME,
        force: request.body.force_regenerate ?? false,
        logFields: logFields(request),
      });
      for (const item of result.results) {
        if (item.cause)
          request.log.warn(
            { err: item.cause, face_crop_id: item.faceCropId, error_type: item.cause.type },
            'batch item failed',
          );
      }
      return toBatchResponse(result);
    },
  );
};
