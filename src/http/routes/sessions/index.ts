// /api/attendance/sessions/: attendance sessions of a group, their class photos (photos.ts),
// manual review and the CSV export. Handlers translate; the session service decides.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { NotFoundError } from '../../../errors.js';
import type { JobService } from '../../../services/job.service.js';
import { attendanceModelName, type SessionService } from '../../../services/session.service.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { groupScope } from '../../../services/access.service.js';
import { attendanceCsv } from './csv.js';
import { sessionPhotoRoutes } from './photos.js';
import {
  AssignBody,
  CreateBody,
  FaceParams,
  ListQuery,
  OverrideBody,
  PersonParams,
  Row,
  SessionDetail,
  SessionList,
  SessionParams,
  SessionSchema,
  toRow,
  toSession,
  toSessionDetail,
} from './schema.js';

export interface SessionRoutesOptions {
  sessions: SessionService;
  /** Async uploads become session-photo jobs; without it they answer 503. */
  jobs: JobService | undefined;
}

const tags = ['sessions'];
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

  await app.register(sessionPhotoRoutes, { sessions, jobs });

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
