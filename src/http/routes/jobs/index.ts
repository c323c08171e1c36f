// /api/attendance/jobs/: long work with progress. Create, read, list, cancel; the job service
// decides, the engine (embedded or BullMQ) runs.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { ServiceUnavailableError, ValidationError } from '../../../errors.js';
import type { JobService } from '../../../services/job.service.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { DEFAULT_MODEL_NAME } from '../../../models/registry.js';
import {
  CreateJobBody,
  JOB_BODY_LIMIT,
  JobList,
  JobListQuery,
  JobParams,
  JobResponse,
  jobLocation,
  toJobResponse,
} from './schema.js';

export interface JobRoutesOptions {
  jobs: JobService | undefined;
}

const tags = ['jobs'];

export function requireJobs(jobs: JobService | undefined): JobService {
  if (!jobs) throw new ServiceUnavailableError('Jobs are not enabled in this process', { retryAfterSeconds: 60 });
  return jobs;
}

export const jobRoutes: FastifyPluginAsync<JobRoutesOptions> = async (app, { jobs }) => {
  app.post<{ Body: Static<typeof CreateJobBody> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      bodyLimit: JOB_BODY_LIMIT,
      config: {
        access: access.write(undefined, { body: { face_crop_ids: 'face-crop' }, jobItems: 'face_crop_ids' }),
      },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'Start a job (202; follow Location for progress)',
        body: CreateJobBody,
        response: { 202: JobResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if ((body.face_crop_ids === undefined) === (body.all !== true)) {
        throw new ValidationError('Send either "face_crop_ids" or "all": true');
      }
      const view = await requireJobs(jobs).create({
        kind: body.kind,
        faceCropIds: body.all ? 'all' : body.face_crop_ids!,
        modelName: body.model_name ?? DEFAULT_MODEL_NAME,
        force: body.force_regenerate ?? false,
        actor: request.actor,
      });
      return reply.code(202).header('Location', jobLocation(view.job.id)).send(toJobResponse(view));
    },
  );

  app.get<{ Querystring: Static<typeof JobListQuery> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      config: { access: access.read() },
      schema: {
        tags,
        security: apiSecurity,
        summary: "List jobs, newest first (a teacher or reader key: its own and its groups' sessions')",
        querystring: JobListQuery,
        response: { 200: JobList, ...errorResponses },
      },
    },
    async (request) => {
      const { status, page = 1, page_size: pageSize = 50 } = request.query;
      const { caller } = request;
      const visibleTo = caller.role === 'admin' ? undefined : { actor: caller.name, groupIds: caller.groups };
      const { count, jobs: views } = await requireJobs(jobs).list({ status, page, pageSize, visibleTo });
      return { count, results: views.map(toJobResponse) };
    },
  );

  app.get<{ Params: Static<typeof JobParams> }>(
    '/:id/',
    {
      config: { access: access.read({ id: 'job' }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'A job: status, progress, and its result once ended',
        params: JobParams,
        response: { 200: JobResponse, ...errorResponses },
      },
    },
    async (request) => toJobResponse(await requireJobs(jobs).get(request.params.id)),
  );

  app.delete<{ Params: Static<typeof JobParams> }>(
    '/:id/',
    {
      config: { access: access.write({ id: 'job' }) },
      schema: {
        tags,
        security: apiSecurity,
        summary: 'Cancel a job: no new item starts, finished items stay',
        params: JobParams,
        response: { 200: JobResponse, ...errorResponses },
      },
    },
    async (request) => toJobResponse(await requireJobs(jobs).cancel(request.params.id)),
  );
};
