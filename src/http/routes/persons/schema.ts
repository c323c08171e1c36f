// Request and response shapes of /api/attendance/persons/, and the mappers to them.
import { Type, type Static } from '@sinclair/typebox';
import type { Person } from '../../../repositories/person.repository.js';
import type { Enrolment } from '../../../services/person.service.js';
import { PageQuery, pageOf } from '../../pagination.js';
import { Id } from '../../schemas.js';

const Name = Type.String({ minLength: 1, maxLength: 256 });
const ExternalId = Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], {
  description: 'Unique when set (409 ConflictError when taken)',
});
const Metadata = Type.Record(Type.String(), Type.Unknown(), { description: 'Any JSON object' });

export const PersonParams = Type.Object({ id: Id });
export const FaceParams = Type.Object({ id: Id, face_crop_id: Id });

export const ListQuery = Type.Composite([
  PageQuery,
  Type.Object({
    group_id: Type.Optional(Id),
    external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  }),
]);

export const CreateBody = Type.Object({
  name: Name,
  external_id: Type.Optional(ExternalId),
  metadata: Type.Optional(Metadata),
  group_id: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 2_147_483_647,
      description: "Put the new person on this group's roster (required for a teacher key: one of its groups)",
    }),
  ),
});

export const PatchBody = Type.Object({
  name: Type.Optional(Name),
  external_id: Type.Optional(ExternalId),
  metadata: Type.Optional(Metadata),
});

export const PersonBody = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  external_id: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  face_count: Type.Integer({ description: 'Enrolment faces' }),
  created_at: Type.String({ format: 'date-time' }),
});

export const PersonList = pageOf(PersonBody);

export const EnrolJson = Type.Object({ face_crop_id: Id });

export const EnrolForm = Type.Object({
  image: Type.String({ format: 'binary', description: 'A photo or a crop: its largest face is enrolled' }),
});

export const EnrolBody = {
  content: {
    'application/json': { schema: EnrolJson },
    'multipart/form-data': { schema: EnrolForm },
  },
};

const BoxSchema = Type.Union([Type.Array(Type.Number(), { minItems: 4, maxItems: 4 }), Type.Null()], {
  description: '[x, y, width, height] in pixels of the (oriented) image',
});

export const EnrolmentBody = Type.Object({
  face_crop_id: Type.Integer(),
  person_id: Type.Integer(),
  box: BoxSchema,
  faces_detected: Type.Optional(Type.Integer({ description: 'Faces seen in an uploaded image' })),
});

export const toPerson = (p: Person): Static<typeof PersonBody> => ({
  id: p.id,
  name: p.name,
  external_id: p.externalId,
  metadata: p.metadata,
  face_count: p.faceCount,
  created_at: p.createdAt,
});

export const toEnrolment = (e: Enrolment): Static<typeof EnrolmentBody> => ({
  face_crop_id: e.faceCropId,
  person_id: e.personId,
  box: e.box,
  ...(e.facesDetected !== undefined && { faces_detected: e.facesDetected }),
});
