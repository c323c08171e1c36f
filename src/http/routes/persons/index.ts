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
import type { ConsentService } from '../../../services/consent.service.js';
import type { ErasureService } from '../../../services/erasure.service.js';
import { PageQuery, pageBody } from '../../pagination.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { assertAdmin, groupScope } from '../../../services/access.service.js';
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
      config: { access: access.write(undefined, { body: { group_id: 'group' } }) },
      schema: {
        tags,
        security,
        summary: 'Create a person (group_id: on that roster at once)',
        body: CreateBody,
        response: { 201: PersonBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { name, external_id: externalId, metadata, group_id: groupId } = request.body;
      // A person on no roster lies outside every teacher's groups: a teacher creates into one of its own.
      if (groupId === undefined) assertAdmin(request.caller, "give group_id, one of the key's groups");
      const person = await persons.create({ name, externalId, metadata }, { groupId });
      return reply.code(201).send((await withEnrolment(persons, [person]))[0]);
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      config: { access: access.read(undefined, { query: { group_id: 'group' } }) },
      schema: {
        tags,
        security,
        summary: 'List persons (a teacher or reader key: members of its groups)',
        querystring: ListQuery,
        response: { 200: PersonList, ...errorResponses },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50, group_id: groupId, external_id: externalId } = request.query;
      const groupIds = groupScope(request.caller);
      const { count, persons: rows } = await persons.list({ page, pageSize, groupId, groupIds, externalId });
      return pageBody(request, { page, pageSize }, count, await withEnrolment(persons, rows));
    },
  );

  app.get<{ Params: Static<typeof PersonParams> }>(
    '/:id/',
    {
      config: { access: access.read({ id: 'person' }) },
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
      config: { access: access.write({ id: 'person' }) },
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
      // A person may be on several groups' rosters: a teacher takes them off its own instead.
      config: { access: access.admin },
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
      // Erasure is the school's decision, not one class's: admin keys only.
      config: { access: access.admin },
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
      config: { access: access.write({ id: 'person' }) },
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
      config: { multipart: true, access: access.write({ id: 'person' }, { body: { face_crop_id: 'face-crop' } }) },
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
      config: { access: access.read({ id: 'person' }) },
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
      config: { access: access.write({ id: 'person', face_crop_id: 'face-crop' }) },
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
