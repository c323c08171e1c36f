// POST /api/attendance/identify/: every face of an uploaded image, or one stored crop, against
// everyone enrolled or one group.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { ValidationError } from '../../../errors.js';
import { MAX_ID } from '../../schemas.js';
import type { FaceCropService } from '../../../services/face-crop.service.js';
import type {
  Identification,
  IdentificationService,
  IdentifyOptions,
} from '../../../services/identification.service.js';
import { numberField, readImageForm } from '../../multipart-form.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { assertAdmin } from '../../../services/access.service.js';
import { identificationJson } from '../../../services/identification-json.js';
import { DEFAULT_MODEL, IdentifyBody, IdentifyJson, IdentifyResponse, MAX_TOP_K } from './schema.js';

export interface IdentifyRoutesOptions {
  identification: IdentificationService;
  faceCrops: FaceCropService;
}

const FORM_FIELDS = ['model_name', 'group_id', 'top_k', 'threshold'] as const;

/** The services' identify JSON (shared with the CLI), checked against the response schema when compiling. */
const respond = (r: Identification): Static<typeof IdentifyResponse> => identificationJson(r);

/** Matches name persons: a teacher or reader key searches one of its groups only. */
async function searchScope(request: FastifyRequest, groupId: number | undefined): Promise<void> {
  if (groupId === undefined) assertAdmin(request.caller, "give group_id, one of the key's groups, to search");
  else await request.assertReaches('group', [groupId]);
}

export const identifyRoutes: FastifyPluginAsync<IdentifyRoutesOptions> = async (app, { identification, faceCrops }) => {
  app.post<{ Body: Static<typeof IdentifyJson> | undefined }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      config: {
        multipart: true,
        access: access.read(undefined, { body: { face_crop_id: 'face-crop', group_id: 'group' } }),
      },
      schema: {
        tags: ['identify'],
        security: apiSecurity,
        summary: 'Who is this? Top-k persons for every face',
        description:
          'Multipart field `image` (every face in it; other fields as form fields, numbers as decimal text) ' +
          'or JSON {face_crop_id}. `person_id` is the best match at or above the threshold, else null.',
        body: IdentifyBody,
        response: { 200: IdentifyResponse, ...errorResponses },
      },
    },
    async (request) => {
      const logFields = { reqId: request.id };
      if (request.isMultipart()) {
        const { staged, fields } = await readImageForm(request, faceCrops, FORM_FIELDS);
        let opts: IdentifyOptions;
        try {
          opts = {
            modelName: fields.model_name || DEFAULT_MODEL,
            groupId: numberField(fields, 'group_id', { integer: true, min: 1, max: MAX_ID }),
            topK: numberField(fields, 'top_k', { integer: true, min: 1, max: MAX_TOP_K }),
            threshold: numberField(fields, 'threshold', { min: -1, max: 1 }),
            logFields,
          };
          await searchScope(request, opts.groupId);
        } catch (err) {
          await faceCrops.discardUpload(staged);
          throw err;
        }
        return respond(await identification.identifyUpload(staged, opts));
      }
      const body = request.body;
      if (!body?.face_crop_id)
        throw new ValidationError('Send JSON {"face_crop_id": …} or a multipart form with a file field "image"');
      await searchScope(request, body.group_id);
      const result = await identification.identifyCrop(body.face_crop_id, {
        modelName: body.model_name ?? DEFAULT_MODEL,
        groupId: body.group_id,
        topK: body.top_k,
        threshold: body.threshold,
        logFields,
      });
      return respond(result);
    },
  );
};
