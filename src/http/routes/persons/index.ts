// /api/attendance/persons/: persons (CRUD) and their enrolment faces. Handlers translate;
// the person service decides.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { ValidationError } from '../../../errors.js';
import type { FaceCropService } from '../../../services/face-crop.service.js';
import type { PersonService } from '../../../services/person.service.js';
import type { Person } from '../../../repositories/person.repository.js';
import { numberField, readImageForm } from '../../multipart-form.js';
import { parseBox, type FaceChoice } from '../../../services/enrolment-face.js';
import { PageQuery, pageBody } from '../../pagination.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { CropList, toCrop } from '../face-crops/schema.js';
import {
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
}

const tags = ['persons'];
const security = apiSecurity;

export const personRoutes: FastifyPluginAsync<PersonRoutesOptions> = async (app, { persons, faceCrops }) => {
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
      const person = await persons.create({ name, externalId, metadata });
      return reply.code(201).send((await withEnrolment(persons, [person]))[0]);
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
      return pageBody(request, { page, pageSize }, count, await withEnrolment(persons, rows));
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
    async (request) => (await withEnrolment(persons, [await persons.get(request.params.id)]))[0],
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
      const person = await persons.update(request.params.id, { name, externalId, metadata });
      return (await withEnrolment(persons, [person]))[0];
    },
  );

  app.delete<{ Params: Static<typeof PersonParams> }>(
    '/:id/',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a person (their face crops stay, unlinked, and are no longer found by identify)',
        params: PersonParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await persons.delete(request.params.id);
      return reply.code(204).send();
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
          'Multipart field `image` (a photo or a crop: its principal face, chosen by detector confidence, size ' +
          'and position, is enrolled and stored as a face crop) or JSON {face_crop_id} (an existing crop). ' +
          'A photo with two or more plausible faces is 422 ValidationError (details.reason `several_faces`, ' +
          'details.faces their boxes, nothing stored) unless the form names one: `face_index` (into that list) ' +
          'or `box` (x,y,w,h). A face below the enrolment gate is 422 ValidationError with details.reason ' +
          '`face_too_small`, `too_blurry` or `pose`; no face is 422 NoFaceDetectedError.',
        params: PersonParams,
        body: EnrolBody,
        response: { 201: EnrolmentBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const personId = request.params.id;
      let enrolment;
      if (request.isMultipart()) {
        const { staged, fields } = await readImageForm(request, faceCrops, ['face_index', 'box']);
        let choice;
        try {
          choice = faceChoice(fields);
        } catch (err) {
          await faceCrops.discardUpload(staged);
          throw err;
        }
        enrolment = await persons.enrolUpload(personId, staged, choice);
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

/** The face an enrolment form names (face_index or box), if any. */
function faceChoice(fields: Record<string, string>): FaceChoice {
  const faceIndex = numberField(fields, 'face_index', { integer: true, min: 0, max: 999 });
  const box = fields['box'] ? parseBox(fields['box']) : undefined;
  return { ...(faceIndex !== undefined && { faceIndex }), ...(box && { box }) };
}

/** Persons as answered: each with how well it is enrolled. */
async function withEnrolment(persons: PersonService, rows: readonly Person[]) {
  const strength = await persons.enrolments(rows.map((p) => p.id));
  return rows.map((p) => toPerson(p, strength.get(p.id)));
}
