// GET /api/attendance/me/: the key the request came with, so a client (the web app) can offer
// only what the key may do.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ROLES } from '../../../config/api-keys.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';

const Me = Type.Object({
  name: Type.String({ description: 'The key name (the audit actor); "anonymous" when no keys are configured' }),
  role: Type.Union(ROLES.map((r) => Type.Literal(r))),
  groups: Type.Union([Type.Array(Type.Integer()), Type.Null()], {
    description: 'The group ids a teacher or reader key reaches; null for an admin (every group)',
  }),
  max_job_items: Type.Union([Type.Integer(), Type.Null()], {
    description: "Items one job of this key may hold (null: the kind's own limit); 0 for a reader",
  }),
});

export const meRoutes: FastifyPluginAsync<{ teacherMaxJobItems: number }> = async (app, { teacherMaxJobItems }) => {
  app.get(
    '/',
    {
      prefixTrailingSlash: 'slash',
      config: { access: access.read() },
      schema: {
        tags: ['keys'],
        security: apiSecurity,
        summary: 'The calling key: name, role and groups',
        response: { 200: Me, ...errorResponses },
      },
    },
    async (request) => {
      const { name, role, groups } = request.caller;
      const maxJobItems = { admin: null, teacher: teacherMaxJobItems, reader: 0 }[role];
      return { name, role, groups: role === 'admin' ? null : [...groups], max_job_items: maxJobItems };
    },
  );
};
