// /api/attendance/persons/: persons (CRUD) and their enrolment faces. Handlers translate;
// the person service decides.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { ValidationError } from '../../../errors.js';
import type { FaceCropService } from '../../../services/face-crop.service.js';
import type { PersonService } from '../../../services/person.service.js';
import type { ConsentService } from '../../../services/consent.service.js';
import type { ErasureService } from '../../../services/erasure.service.js';
import { readImageForm } from '../../multipart-form.js';
import { PageQuery, pageBody } from '../../pagination.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { CropList, toCrop } from '../face-crops/schema.js';
import {
  ConsentAnswer,
  ConsentBody,
  EraseBody,
  ReceiptBody,
  toReceipt,
  CreateBody,
  EnrolBody,
  EnrolJson,
  EnrolmentBody,
  FaceParams,
  ListQuery,
  PatchBody,
  PersonBody,
  PersonList,
  PersonParams,
  toEnrolment,
  toPerson,
} from './schema.js';

export interface PersonRoutesOptions {
  persons: PersonService;
  faceCrops: FaceCropService;
  erasure: ErasureService;
  consent: ConsentService;
}

const tags = ['persons'];
const security = apiSecurity;

export const personRoutes: FastifyPluginAsync<PersonRoutesOptions> = async (
  app,
  { persons, faceCrops, erasure, consent },
) => {
  app.post<{ Body: Static<typeof CreateBody> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      schema: {
        tags,
        security,
        summary: 'Create a person',
        body: CreateBody,
        response: { 201: PersonBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { name, external_id: externalId, metadata } = request.body;
      return reply.code(201).send(toPerson(await persons.create({ name, externalId, metadata })));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      schema: {
        tags,
        security,
        summary: 'List persons',
        querystring: ListQuery,
        response: { 200: PersonList, ...errorResponses },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50, group_id: groupId, external_id: externalId } = request.query;
      const { count, persons: rows } = await persons.list({ page, pageSize, groupId, externalId });
      return pageBody(request, { page, pageSize }, count, rows.map(toPerson));
    },
  );

  app.get<{ Params: Static<typeof PersonParams> }>(
    '/:id/',
    {
      schema: {
        tags,
        security,
        summary: 'A person',
        params: PersonParams,
        response: { 200: PersonBody, ...errorResponses },
      },
    },
    async (request) => toPerson(await persons.get(request.params.id)),
  );

  app.patch<{ Params: Static<typeof PersonParams>; Body: Static<typeof PatchBody> }>(
    '/:id/',
    {
      schema: {
        tags,
        security,
        summary: 'Change a person',
        params: PersonParams,
        body: PatchBody,
        response: { 200: PersonBody, ...errorResponses },
      },
    },
    async (request) => {
      const { name, external_id: externalId, metadata } = request.body;
      return toPerson(await persons.update(request.params.id, { name, externalId, metadata }));
    },
  );

  app.delete<{ Params: Static<typeof PersonParams> }>(
    '/:id/',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a person: their biometric data is erased first (audited); attendance rows keep the name',
        params: PersonParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await persons.delete(request.params.id, request.actor);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Static<typeof PersonParams>; Body: Static<typeof EraseBody> }>(
    '/:id/erase/',
    {
      schema: {
        tags,
        security,
        summary: "Erase a person's biometric data (scope all: also their name), with a receipt",
        description:
          'Every face crop of theirs (enrolment and session faces), its embeddings, files, search entries and ' +
          'cluster memberships go; attendance rows stay. Audited as `erased` with the counts.',
        params: PersonParams,
        body: EraseBody,
        response: { 200: ReceiptBody, ...errorResponses },
      },
    },
    async (request) =>
      toReceipt(await erasure.erase(request.params.id, request.body.scope ?? 'biometric', request.actor)),
  );

  app.put<{ Params: Static<typeof PersonParams>; Body: Static<typeof ConsentBody> }>(
    '/:id/consent/',
    {
      schema: {
        tags,
        security,
        summary: 'Record consent to biometric processing (withdrawn: their biometric data is erased)',
        params: PersonParams,
        body: ConsentBody,
        response: { 200: ConsentAnswer, ...errorResponses },
      },
    },
    async (request) => {
      const { status, by, basis } = request.body;
      const done = await consent.set(request.params.id, { status, by, basis }, request.actor);
      return { ...toPerson(done.person), ...(done.erasure && { erasure: toReceipt(done.erasure) }) };
    },
  );

  app.post<{ Params: Static<typeof PersonParams>; Body: Static<typeof EnrolJson> | undefined }>(
    '/:id/faces/',
    {
      config: { multipart: true },
      schema: {
        tags,
        security,
        summary: 'Enrol a face',
        description:
          'Multipart field `image` (a photo or a crop: its largest face is enrolled and stored as a face crop) ' +
          'or JSON {face_crop_id} (an existing crop).',
        params: PersonParams,
        body: EnrolBody,
        response: { 201: EnrolmentBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const personId = request.params.id;
      let enrolment;
      if (request.isMultipart()) {
        const { staged } = await readImageForm(request, faceCrops, []);
        enrolment = await persons.enrolUpload(personId, staged);
      } else {
        const id = request.body?.face_crop_id;
        if (id === undefined)
          throw new ValidationError('Send JSON {"face_crop_id": …} or a multipart form with a file field "image"');
        enrolment = await persons.enrolCrop(personId, id);
      }
      return reply.code(201).send(toEnrolment(enrolment));
    },
  );

  app.get<{ Params: Static<typeof PersonParams>; Querystring: Static<typeof PageQuery> }>(
    '/:id/faces/',
    {
      schema: {
        tags,
        security,
        summary: "A person's enrolment faces (face crops)",
        params: PersonParams,
        querystring: PageQuery,
        response: { 200: CropList, ...errorResponses },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50 } = request.query;
      const { count, crops } = await persons.listFaces(request.params.id, { page, pageSize });
      return pageBody(request, { page, pageSize }, count, crops.map(toCrop));
    },
  );

  app.delete<{ Params: Static<typeof FaceParams> }>(
    '/:id/faces/:face_crop_id/',
    {
      schema: {
        tags,
        security,
        summary: 'Un-enrol a face (the crop stays, unlinked)',
        params: FaceParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await persons.unenrol(request.params.id, request.params.face_crop_id);
      return reply.code(204).send();
    },
  );
};
