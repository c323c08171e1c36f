// /api/attendance/audit/: every automatic decision and every manual change, oldest first.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { SessionService } from '../../../services/session.service.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { groupScope } from '../../../services/access.service.js';
import { AuditList, AuditQuery, toAuditList } from '../sessions/schema.js';

export const auditRoutes: FastifyPluginAsync<{ sessions: SessionService }> = async (app, { sessions }) => {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      config: { access: access.read(undefined, { query: { session_id: 'session', person_id: 'person' } }) },
      schema: {
        tags: ['sessions'],
        security: apiSecurity,
        summary: "The audit trail, by session and/or person (a teacher or reader key: its groups' sessions)",
        querystring: AuditQuery,
        response: { 200: AuditList, ...errorResponses },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 100, session_id: sessionId, person_id: personId } = request.query;
      const groupIds = groupScope(request.caller);
      return toAuditList(await sessions.audit({ page, pageSize, sessionId, personId, groupIds }));
    },
  );
};
