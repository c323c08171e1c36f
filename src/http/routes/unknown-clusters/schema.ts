// Request and response shapes of /api/attendance/groups/{id}/unknown-clusters/.
import { Type, type Static } from '@sinclair/typebox';
import type { ClusterEnrolment } from '../../../services/cluster.service.js';
import type { ClusterView } from '../../../services/cluster-view.js';
import { Id } from '../../schemas.js';

export const GroupParams = Type.Object({ id: Id });
export const ClusterParams = Type.Object({ id: Id, cluster_id: Id });

export const Cluster = Type.Object({
  id: Type.Integer(),
  face_crop_ids: Type.Array(Type.Integer(), { description: 'Best quality first' }),
  size: Type.Integer(),
  representative_face_crop_id: Type.Integer({ description: 'The best-quality face' }),
  session_ids: Type.Array(Type.Integer(), { description: 'Sessions the faces were seen in (open and closed)' }),
  nearest_person: Type.Union(
    [
      Type.Object({
        person_id: Type.Integer(),
        similarity: Type.Number({ description: "Mean over the cluster's faces of the member's score" }),
      }),
      Type.Null(),
    ],
    { description: 'The roster member closest to the faces; null when no member has an enrolled face' },
  ),
});

export const ClusterList = Type.Object({ clusters: Type.Array(Cluster, { description: 'Largest first' }) });

export const EnrolBody = Type.Union(
  [
    Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 256 }),
        external_id: Type.Optional(
          Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], {
            description: 'Unique when set (409 ConflictError when taken; nothing enrolled)',
          }),
        ),
      },
      { additionalProperties: false, title: 'A new person' },
    ),
    Type.Object({ person_id: Id }, { additionalProperties: false, title: 'An existing person' }),
  ],
  { description: 'A new person (name, external_id) or an existing one (person_id)' },
);

export const EnrolResponse = Type.Object({
  person_id: Type.Integer(),
  enrolled_faces: Type.Integer({ description: 'Faces enrolled, best quality first, at most 5' }),
  sessions_marked: Type.Integer({ description: 'Open sessions where the person was marked present (source cluster)' }),
  face_crop_ids: Type.Array(Type.Integer(), { description: 'The faces enrolled' }),
  session_ids: Type.Array(Type.Integer(), { description: 'The sessions marked' }),
});

export const SplitBody = Type.Object({
  face_crop_ids: Type.Array(Id, {
    minItems: 1,
    maxItems: 10_000,
    description: 'Faces of the cluster that move to a new cluster; at least one face must stay',
  }),
});

export const toCluster = (c: ClusterView): Static<typeof Cluster> => ({
  id: c.id,
  face_crop_ids: c.faceCropIds,
  size: c.faceCropIds.length,
  representative_face_crop_id: c.representativeFaceCropId,
  session_ids: c.sessionIds,
  nearest_person: c.nearestPerson && { person_id: c.nearestPerson.personId, similarity: c.nearestPerson.similarity },
});

export const toEnrolment = (e: ClusterEnrolment): Static<typeof EnrolResponse> => ({
  person_id: e.personId,
  enrolled_faces: e.faceCropIds.length,
  sessions_marked: e.sessionIds.length,
  face_crop_ids: e.faceCropIds,
  session_ids: e.sessionIds,
});
