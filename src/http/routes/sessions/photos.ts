// /api/attendance/sessions/{id}/photos/: upload a class photo (answered at once, or queued as a
// session-photo job), read a photo's image file, delete a photo. Handlers translate; the session
// service decides.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { JobService } from '../../../services/job.service.js';
import type { SessionService } from '../../../services/session.service.js';
import { IMAGE_BYTES, sendStoredImage } from '../../stored-image.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { requireJobs } from '../jobs/index.js';
import { SessionPhotoAccepted, jobLocation, toJobResponse } from '../jobs/schema.js';
import { PhotoParams, PhotoQuery, PhotoResponse, SessionParams, UploadBody, toPhoto } from './schema.js';
import { stagePhoto } from './upload.js';

export interface SessionPhotoRoutesOptions {
  sessions: SessionService;
  /** Async uploads become session-photo jobs; without it they answer 503. */
  jobs: JobService | undefined;
}

const tags = ['sessions'];
export const sessionPhotoRoutes: FastifyPluginAsync<SessionPhotoRoutesOptions> = async (app, { sessions, jobs }) => {
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
          200: IMAGE_BYTES,
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { file, data } = await sessions.photoImage(request.params.id, request.params.photo_id);
      return sendStoredImage(reply, file.absPath, data);
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
};
