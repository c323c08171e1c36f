// /api/attendance/groups/: rosters of persons. PUT members replaces the roster, POST adds,
// DELETE …/members/{person_id}/ removes one; an unknown person id is 400 and changes nothing.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { GroupService } from '../../../services/group.service.js';
import { PageQuery, pageBody } from '../../pagination.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import { groupScope } from '../../../services/access.service.js';
import { PersonList, toPerson } from '../persons/schema.js';
import {
  CreateBody,
  GroupBody,
  GroupList,
  GroupParams,
  MemberParams,
  MembersBody,
  PatchBody,
  toGroup,
} from './schema.js';

export interface GroupRoutesOptions {
  groups: GroupService;
}

const tags = ['groups'];
const security = apiSecurity;

export const groupRoutes: FastifyPluginAsync<GroupRoutesOptions> = async (app, { groups }) => {
  app.post<{ Body: Static<typeof CreateBody> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      config: { access: access.admin },
      schema: {
        tags,
        security,
        summary: 'Create a group',
        body: CreateBody,
        response: { 201: GroupBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { name, external_id: externalId } = request.body;
      return reply.code(201).send(toGroup(await groups.create({ name, externalId })));
    },
  );

  app.get<{ Querystring: Static<typeof PageQuery> }>(
    '/',
    {
      prefixTrailingSlash: 'slash',
      config: { access: access.read() },
      schema: {
        tags,
        security,
        summary: 'List groups (a teacher or reader key: its own)',
        querystring: PageQuery,
        response: { 200: GroupList, ...errorResponses },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50 } = request.query;
      const { count, groups: rows } = await groups.list({ page, pageSize, groupIds: groupScope(request.caller) });
      return pageBody(request, { page, pageSize }, count, rows.map(toGroup));
    },
  );

  app.get<{ Params: Static<typeof GroupParams> }>(
    '/:id/',
    {
      config: { access: access.read({ id: 'group' }) },
      schema: {
        tags,
        security,
        summary: 'A group',
        params: GroupParams,
        response: { 200: GroupBody, ...errorResponses },
      },
    },
    async (request) => toGroup(await groups.get(request.params.id)),
  );

  app.patch<{ Params: Static<typeof GroupParams>; Body: Static<typeof PatchBody> }>(
    '/:id/',
    {
      config: { access: access.write({ id: 'group' }) },
      schema: {
        tags,
        security,
        summary: 'Change a group',
        params: GroupParams,
        body: PatchBody,
        response: { 200: GroupBody, ...errorResponses },
      },
    },
    async (request) => {
      const { name, external_id: externalId } = request.body;
      return toGroup(await groups.update(request.params.id, { name, externalId }));
    },
  );

  app.delete<{ Params: Static<typeof GroupParams> }>(
    '/:id/',
    {
      config: { access: access.admin },
      schema: {
        tags,
        security,
        summary: 'Delete a group with its sessions, their photos, faces and files (its persons stay)',
        params: GroupParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await groups.delete(request.params.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: Static<typeof GroupParams>; Querystring: Static<typeof PageQuery> }>(
    '/:id/members/',
    {
      config: { access: access.read({ id: 'group' }) },
      schema: {
        tags,
        security,
        summary: "A group's members",
        params: GroupParams,
        querystring: PageQuery,
        response: { 200: PersonList, ...errorResponses },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50 } = request.query;
      const { count, persons } = await groups.members(request.params.id, { page, pageSize });
      return pageBody(
        request,
        { page, pageSize },
        count,
        persons.map((p) => toPerson(p)),
      );
    },
  );

  for (const [method, replace] of [
    ['PUT', true],
    ['POST', false],
  ] as const) {
    app.route<{ Params: Static<typeof GroupParams>; Body: Static<typeof MembersBody> }>({
      method,
      url: '/:id/members/',
      // A roster takes only persons the key already reaches (members of its groups).
      config: { access: access.write({ id: 'group' }, { body: { person_ids: 'person' } }) },
      schema: {
        tags,
        security,
        summary: replace ? 'Replace the roster' : 'Add members',
        params: GroupParams,
        body: MembersBody,
        response: { 200: GroupBody, ...errorResponses },
      },
      handler: async (request) => {
        const { id } = request.params;
        const ids = request.body.person_ids;
        return toGroup(replace ? await groups.replaceMembers(id, ids) : await groups.addMembers(id, ids));
      },
    });
  }

  app.delete<{ Params: Static<typeof MemberParams> }>(
    '/:id/members/:person_id/',
    {
      config: { access: access.write({ id: 'group' }) },
      schema: {
        tags,
        security,
        summary: 'Remove a member',
        params: MemberParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await groups.removeMember(request.params.id, request.params.person_id);
      return reply.code(204).send();
    },
  );
};
