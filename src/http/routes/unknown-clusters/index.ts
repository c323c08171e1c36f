// /api/attendance/groups/{id}/unknown-clusters/: the group's unknown faces grouped by person,
// enrolled as a new or existing person, or split when a face is in the wrong cluster.
import type { FastifyPluginAsync } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { ClusterService } from '../../../services/cluster.service.js';
import { access } from '../../plugins/access.js';
import { apiSecurity, errorResponses } from '../../schemas.js';
import {
  ClusterList,
  ClusterParams,
  EnrolBody,
  EnrolResponse,
  GroupParams,
  SplitBody,
  toCluster,
  toEnrolment,
} from './schema.js';

export interface UnknownClusterRoutesOptions {
  clusters: ClusterService;
}

const tags = ['groups'];
const security = apiSecurity;

export const unknownClusterRoutes: FastifyPluginAsync<UnknownClusterRoutesOptions> = async (app, { clusters }) => {
  app.get<{ Params: Static<typeof GroupParams> }>(
    '/:id/unknown-clusters/',
    {
      config: { access: access.read({ id: 'group' }) },
      schema: {
        tags,
        security,
        summary: "The faces left unknown in the group's sessions, grouped by person, largest first",
        params: GroupParams,
        response: { 200: ClusterList, ...errorResponses },
      },
    },
    async (request) => ({ clusters: (await clusters.list(request.params.id)).map(toCluster) }),
  );

  app.post<{ Params: Static<typeof ClusterParams>; Body: Static<typeof EnrolBody> }>(
    '/:id/unknown-clusters/:cluster_id/enrol/',
    {
      config: { access: access.write({ id: 'group' }, { body: { person_id: 'person' } }) },
      schema: {
        tags,
        security,
        summary:
          "Enrol a cluster's best faces as a person, add them to the roster, mark them present in the open sessions where they were seen",
        params: ClusterParams,
        body: EnrolBody,
        response: { 200: EnrolResponse, ...errorResponses },
      },
    },
    async (request) => {
      const b = request.body;
      const target = 'person_id' in b ? { personId: b.person_id } : { name: b.name, externalId: b.external_id };
      const { id, cluster_id: clusterId } = request.params;
      return toEnrolment(await clusters.enrol(id, clusterId, target, request.actor));
    },
  );

  app.post<{ Params: Static<typeof ClusterParams>; Body: Static<typeof SplitBody> }>(
    '/:id/unknown-clusters/:cluster_id/split/',
    {
      config: { access: access.write({ id: 'group' }, { body: { face_crop_ids: 'face-crop' } }) },
      schema: {
        tags,
        security,
        summary: 'Move some faces of a cluster into a new cluster (one face: take it out)',
        params: ClusterParams,
        body: SplitBody,
        response: { 200: ClusterList, ...errorResponses },
      },
    },
    async (request) => {
      const { id, cluster_id: clusterId } = request.params;
      return { clusters: (await clusters.split(id, clusterId, request.body.face_crop_ids)).map(toCluster) };
    },
  );
};
