// /api/attendance/sessions/: attendance sessions of a group, their class photos, manual review
// and the CSV export. Handlers translate; the session service decides.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import path from 'node:path';
import { NotFoundError } from '../../../errors.js';
import type { JobService } from '../../../services/job.service.js';
import { attendanceModelName, type SessionService } from '../../../services/session.service.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { groupScope } from '../../../services/access.service.js';
import { requireJobs } from '../jobs/index.js';
import { SessionPhotoAccepted, jobLocation, toJobResponse } from '../jobs/schema.js';
import { attendanceCsv } from './csv.js';
import {
  AssignBody,
  CreateBody,
  FaceParams,
  ListQuery,
  OverrideBody,
  PersonParams,
  PhotoParams,
  PhotoQuery,
  PhotoResponse,
  Row,
  SessionDetail,
  SessionList,
  SessionParams,
  SessionSchema,
  UploadBody,
  toPhoto,
  toRow,
  toSession,
  toSessionDetail,
} from './schema.js';
import { stagePhoto } from './upload.js';

export interface SessionRoutesOptions {
  sessions: SessionService;
  /** Async uploads become session-photo jobs; without it they answer 503. */
  jobs: JobService | undefined;
}

const tags = ['sessions'];
const IMAGE_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.avif': 'image/avif',
  '.heic': 'image/heic',
});

export const sessionRoutes: FastifyPluginAsync<SessionRoutesOptions> = async (app, { sessions, jobs }) => {
  app.post<{ Body: Static<typeof CreateBody> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      config: { access: access.write(undefined, { body: { group_id: 'group' } }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'Open an attendance session for a group',
        body: CreateBody,
        response: { 201: SessionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const session = await sessions.create(
        { groupId: b.group_id, name: b.name, startsAt: b.starts_at, modelName: attendanceModelName(b.model_name) },
        request.actor,
      );
      return reply.code(201).send(toSession(session, sessions.modelNames(session, b.model_name)));
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      config: { access: access.read(undefined, { query: { group_id: 'group' } }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: "Sessions, newest first (a teacher or reader key: its groups')",
        querystring: ListQuery,
        response: { 200: SessionList, ...errorResponses },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50, group_id: groupId } = request.query;
      const groupIds = groupScope(request.caller);
      const { count, sessions: list } = await sessions.list({ page, pageSize, groupId, groupIds });
      if (page > 1 && list.length === 0) throw new NotFoundError('Invalid page.', { page, count });
      return { count, results: list.map((s) => toSession(s, sessions.modelNames(s))) };
    },
  );

  app.get<{ Params: Static<typeof SessionParams> }>(
    '/:id/',
    {
      config: { access: access.read({ id: 'session' }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'A session: one attendance row per roster member, its photos and unknown faces',
        params: SessionParams,
        response: { 200: SessionDetail, ...errorResponses },
      },
    },
    async (request) => {
      const view = await sessions.get(request.params.id);
      return toSessionDetail(view, sessions.modelNames(view.session));
    },
  );

  app.post<{ Params: Static<typeof SessionParams>; Querystring: Static<typeof PhotoQuery> }>(
    '/:id/photos/',
    {
      config: { multipart: true, access: access.write({ id: 'session' }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'Upload a class photo: every face stored, matched over the whole session',
        description:
          'Synchronous: 201 with the faces. With async (form field or query): 202 and a session-photo job ' +
          '(Location: the job), whose result is the 201 body; 503 while the photo queue is full.',
        params: SessionParams,
        querystring: PhotoQuery,
        body: UploadBody,
        response: { 201: PhotoResponse, 202: SessionPhotoAccepted, ...errorResponses },
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      const queued = request.query.async === true;
      // A missing or closed session, or a full photo queue, is refused before the photo is read.
      await sessions.assertOpen(id);
      if (queued) await requireJobs(jobs).assertPhotoRoom();
      const { staged, async } = await stagePhoto(request, sessions);
      if (!(queued || async)) return reply.code(201).send(toPhoto(await sessions.addPhoto(id, staged, request.actor)));
      let view;
      try {
        view = await requireJobs(jobs).createSessionPhoto(id, staged, request.actor);
      } finally {
        await sessions.discardUpload(staged); // moved already unless refused
      }
      const job = toJobResponse(view);
      return reply
        .code(202)
        .header('Location', jobLocation(job.id))
        .send({ ...job, job_id: job.id });
    },
  );

  app.get<{ Params: Static<typeof PhotoParams> }>(
    '/:id/photos/:photo_id/image',
    {
      config: { access: access.read({ id: 'session', photo_id: 'photo' }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: "A session photo's image file",
        params: PhotoParams,
        response: {
          200: {
            description: 'The image bytes',
            content: { 'image/*': { schema: { type: 'string', format: 'binary' } } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { file, data } = await sessions.photoImage(request.params.id, request.params.photo_id);
      const type = IMAGE_TYPES[path.extname(file.absPath).toLowerCase()] ?? 'application/octet-stream';
      reply.header('Cache-Control', 'private, max-age=3600');
      return reply.type(type).send(data);
    },
  );

  app.delete<{ Params: Static<typeof PhotoParams> }>(
    '/:id/photos/:photo_id/',
    {
      schema: {
        tags,
        security: apiSecurity,
        summary: 'Delete a class photo with the faces cut from it and their files',
        description:
          'An open session is re-solved without them; a closed one keeps its attendance. A face enrolled ' +
          "as a person's stays in their gallery.",
        params: PhotoParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
      config: { access: access.write({ id: 'session', photo_id: 'photo' }) },
    },
    async (request, reply) => {
      await sessions.deletePhoto(request.params.id, request.params.photo_id, request.actor);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: Static<typeof SessionParams> }>(
    '/:id/',
    {
      schema: {
        tags,
        security: apiSecurity,
        summary: 'Delete a session: its photos, faces, attendance rows and files',
        params: SessionParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
      config: { access: access.write({ id: 'session' }) },
    },
    async (request, reply) => {
      await sessions.deleteSession(request.params.id, request.actor);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Static<typeof SessionParams> }>(
    '/:id/close/',
    {
      config: { access: access.write({ id: 'session' }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'Close the session: later changes are refused (409)',
        params: SessionParams,
        response: { 200: SessionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const session = await sessions.close(request.params.id, request.actor);
      return toSession(session, sessions.modelNames(session));
    },
  );

  app.put<{ Params: Static<typeof PersonParams>; Body: Static<typeof OverrideBody> }>(
    '/:id/attendance/:person_id/',
    {
      config: { access: access.write({ id: 'session', person_id: 'person' }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: "Set a roster member's status by hand (never overwritten by a later automatic pass)",
        params: PersonParams,
        body: OverrideBody,
        response: { 200: Row, ...errorResponses },
      },
    },
    async (request) => {
      const { id, person_id: personId } = request.params;
      return toRow(await sessions.override(id, personId, request.body, request.actor));
    },
  );

  app.post<{ Params: Static<typeof FaceParams>; Body: Static<typeof AssignBody> }>(
    '/:id/faces/:face_crop_id/assign/',
    {
      config: {
        access: access.write({ id: 'session', face_crop_id: 'face-crop' }, { body: { person_id: 'person' } }),
      },
      schema: {
        tags,
        security: apiSecurity,
        summary:
          "Give a face of this session to a roster member (enrol: true adds it to the person's faces); 409 when another face of its photo answers them",
        params: FaceParams,
        body: AssignBody,
        response: { 200: Row, ...errorResponses },
      },
    },
    async (request) => {
      const { id, face_crop_id: faceCropId } = request.params;
      const b = request.body;
      return toRow(
        await sessions.assignFace(
          id,
          faceCropId,
          { personId: b.person_id, enrol: b.enrol, note: b.note },
          request.actor,
        ),
      );
    },
  );

  app.get<{ Params: Static<typeof SessionParams> }>(
    '/:id/attendance.csv',
    {
      config: { access: access.read({ id: 'session' }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'The attendance as CSV, one row per roster member',
        params: SessionParams,
        response: {
          200: { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const rows = await sessions.exportRows(request.params.id);
      reply.header('Content-Disposition', `attachment; filename="session-${request.params.id}.csv"`);
      return reply.type('text/csv; charset=utf-8').send(attendanceCsv(rows));
    },
  );
};
