// Request and response shapes of /api/attendance/persons/, and the mappers to them.
import { Type, type Static } from '@sinclair/typebox';
import type { EnrolmentStrength } from '../../../domain/enrolment-quality.js';
import type { Person } from '../../../repositories/person.repository.js';
import type { ErasureReceipt } from '../../../services/erasure.service.js';
import { receiptJson } from '../../../services/erasure.service.js';
import type { Enrolment } from '../../../services/person.service.js';
import { PageQuery, pageOf } from '../../pagination.js';
import { Id } from '../../schemas.js';
import { QualityFields, toQuality } from '../face-crops/schema.js';

const Name = Type.String({ minLength: 1, maxLength: 256 });
const ExternalId = Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], {
  description: 'Unique when set (409 ConflictError when taken)',
});
const Metadata = Type.Record(Type.String(), Type.Unknown(), { description: 'Any JSON object' });

export const PersonParams = Type.Object({ id: Id });

const ConsentStatus = Type.Union([Type.Literal('granted'), Type.Literal('withdrawn'), Type.Literal('unknown')]);
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
  enrolment: Type.Optional(
    Type.Object(
      {
        photos: Type.Integer({ description: 'Enrolment faces' }),
        strength: Type.Union([Type.Literal('weak'), Type.Literal('ok')]),
        reasons: Type.Array(
          Type.Union([Type.Literal('no_photos'), Type.Literal('one_photo'), Type.Literal('low_quality')]),
          {
            description: 'Why it is weak: fewer than two photos, or fewer than two that pass the enrolment gate',
          },
        ),
      },
      { description: 'How well the person is enrolled: add photos to a weak enrolment' },
    ),
  ),
  consent: Type.Object(
    {
      status: ConsentStatus,
      by: Type.Union([Type.String(), Type.Null()]),
      at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      basis: Type.Union([Type.String(), Type.Null()]),
    },
    { description: 'Consent to biometric processing, as last recorded (docs/privacy.md)' },
  ),
});

const Scope = Type.Union([Type.Literal('biometric'), Type.Literal('all')], {
  description: 'biometric: faces, embeddings, files; all: also the name, external_id and metadata (pseudonymised)',
});

export const EraseBody = Type.Object({ scope: Type.Optional(Scope) });

export const ReceiptBody = Type.Object({
  person_id: Type.Integer(),
  scope: Scope,
  removed: Type.Object({
    face_crops: Type.Integer(),
    embeddings: Type.Integer(),
    files: Type.Integer(),
    cluster_faces: Type.Integer(),
  }),
  at: Type.String({ format: 'date-time' }),
});

export const ConsentBody = Type.Object({
  status: ConsentStatus,
  by: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
  basis: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 1024 }), Type.Null()])),
});

export const ConsentAnswer = Type.Composite([PersonBody, Type.Object({ erasure: Type.Optional(ReceiptBody) })]);

export const PersonList = pageOf(PersonBody);

export const EnrolJson = Type.Object({ face_crop_id: Id });

export const EnrolForm = Type.Object({
  image: Type.String({
    format: 'binary',
    description: 'A photo or a crop: its principal face (detector confidence, size and position) is enrolled',
  }),
  face_index: Type.Optional(
    Type.String({
      pattern: '^\\d{1,3}$',
      description: "Which of the photo's plausible faces to enrol: an index into a refusal's details.faces",
    }),
  ),
  box: Type.Optional(
    Type.String({
      description: 'x,y,w,h: enrol the detected face that best overlaps this box (IoU >= 0.5)',
      examples: ['120,80,96,96'],
    }),
  ),
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
  faces_seen: Type.Optional(Type.Integer({ description: 'Faces seen in an uploaded image (as faces_detected)' })),
  face_index: Type.Optional(
    Type.Union([Type.Integer(), Type.Null()], {
      description:
        "The enrolled face's index among the photo's plausible faces (0: the principal face); null when a box named a face outside them",
    }),
  ),
  quality: Type.Optional(Type.Object(QualityFields, { description: "The enrolled face's quality" })),
});

export const toPerson = (p: Person, enrolment?: EnrolmentStrength): Static<typeof PersonBody> => ({
  id: p.id,
  name: p.name,
  external_id: p.externalId,
  metadata: p.metadata,
  face_count: p.faceCount,
  created_at: p.createdAt,
  consent: { status: p.consent.status, by: p.consent.by, at: p.consent.at, basis: p.consent.basis },
  ...(enrolment && { enrolment }),
});

export const toReceipt = (r: ErasureReceipt): Static<typeof ReceiptBody> => receiptJson(r);

export const toEnrolment = (e: Enrolment): Static<typeof EnrolmentBody> => ({
  face_crop_id: e.faceCropId,
  person_id: e.personId,
  box: e.box,
  ...(e.facesDetected !== undefined && { faces_detected: e.facesDetected, faces_seen: e.facesDetected }),
  ...(e.faceIndex !== undefined && { face_index: e.faceIndex }),
  ...(e.quality && {
    quality: toQuality(e.quality),
  }),
});
