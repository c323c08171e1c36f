// /api/attendance/retention/: the retention schedule, the last purge, and a purge on demand
// (a job of kind purge; dry_run answers at once and removes nothing).
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { JobService } from '../../../services/job.service.js';
import { PURGE_INTERVAL_HOURS, type RetentionService } from '../../../services/retention.service.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { requireJobs } from '../jobs/index.js';
import { JobResponse, jobLocation, toJobResponse } from '../jobs/schema.js';
import { PurgeBody, PurgeResponse, RetentionBody, toPurgeResponse, toRetention } from './schema.js';

export interface RetentionRoutesOptions {
  retention: RetentionService;
  jobs: JobService | undefined;
}

const tags = ['privacy'];
const security = apiSecurity;

export const retentionRoutes: FastifyPluginAsync<RetentionRoutesOptions> = async (app, { retention, jobs }) => {
  app.get(
    '/',
    {
      prefixTrailingSlash: 'slash',
      schema: {
        tags,
        security,
        summary: 'The retention schedule and the last purge',
        response: { 200: RetentionBody, ...errorResponses },
      },
      config: { access: access.admin },
    },
    async () => toRetention(retention.schedule, retention.enforced, PURGE_INTERVAL_HOURS, await retention.lastPurge()),
  );

  app.post<{ Body: Static<typeof PurgeBody> | undefined }>(
    '/purge/',
    {
      schema: {
        tags,
        security,
        summary: 'Purge what is past its retention period now (a job), or see what would go (dry_run)',
        body: PurgeBody,
        response: { 200: PurgeResponse, 202: JobResponse, ...errorResponses },
      },
      config: { access: access.admin },
    },
    async (request, reply) => {
      if (request.body?.dry_run) return toPurgeResponse(await retention.purge({ dryRun: true, actor: request.actor }));
      const view = await requireJobs(jobs).createPurge(request.actor);
      return reply.code(202).header('Location', jobLocation(view.job.id)).send(toJobResponse(view));
    },
  );
};
