// Request and response shapes of /api/attendance/sessions/ and audit/, and the mappers to them.
import { Type, type Static } from '@sinclair/typebox';
import { QualityFields, toQuality } from '../face-crops/schema.js';
import { ATTENDANCE_MODEL_NAME } from '../../../models/registry.js';
import type { AttendanceRow } from '../../../repositories/attendance.repository.js';
import type { AuditEvent } from '../../../repositories/audit.repository.js';
import type { Session } from '../../../repositories/session.repository.js';
import type { ModelNames } from '../../../services/model-names.js';
import type { PhotoFaceResult, PhotoResult, SessionView } from '../../../services/session-view.js';
import { Id } from '../../schemas.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const BoxSchema = Type.Array(Type.Number(), { minItems: 4, maxItems: 4, description: '[x, y, width, height]' });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const NullableId = Type.Union([Type.Integer(), Type.Null()]);
const Status = Type.Union([Type.Literal('present'), Type.Literal('absent')]);
const Note = Type.Optional(Nullable(Type.String({ maxLength: 1000 })));

export const SessionParams = Type.Object({ id: Id });
export const PersonParams = Type.Object({ id: Id, person_id: Id });
export const FaceParams = Type.Object({ id: Id, face_crop_id: Id });
export const PhotoParams = Type.Object({ id: Id, photo_id: Id });

export const CreateBody = Type.Object({
  group_id: Id,
  name: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
  starts_at: Type.Optional(
    Nullable(
      Type.String({
        pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})$',
        description: 'ISO 8601 with a time zone, e.g. 2026-12-01T08:00:00Z',
      }),
    ),
  ),
  model_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: ATTENDANCE_MODEL_NAME })),
});

export const ListQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  group_id: Type.Optional(Id),
});

export const AuditQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  session_id: Type.Optional(Id),
  person_id: Type.Optional(Id),
});

export const OverrideBody = Type.Object({ status: Status, note: Note });
export const AssignBody = Type.Object({
  person_id: Id,
  enrol: Type.Optional(Type.Boolean({ default: false })),
  note: Note,
});

export const PhotoQuery = Type.Object({
  async: Type.Optional(Type.Boolean({ description: 'true: queue the photo as a job (202), as the form field does' })),
});

export const UploadBody = {
  content: {
    'multipart/form-data': {
      schema: Type.Object({
        image: Type.String({ format: 'binary', description: 'The class photo' }),
        async: Type.Optional(
          Type.Union([Type.Literal('true'), Type.Literal('false')], {
            description: '"true": 202 and a session-photo job whose result is the 201 body',
          }),
        ),
      }),
    },
  },
};

export const SessionSchema = Type.Object({
  id: Type.Integer(),
  group_id: Type.Integer(),
  name: Nullable(Type.String()),
  starts_at: Nullable(Type.String({ format: 'date-time' })),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  model_name: Type.String({ description: "The model's public name" }),
  model_true_name: Type.String({ description: "The registry's own name" }),
  created_at: Type.String({ format: 'date-time' }),
  closed_at: Nullable(Type.String({ format: 'date-time' })),
});

export const SessionList = Type.Object({ count: Type.Integer(), results: Type.Array(SessionSchema) });

const Face = Type.Object({
  face_crop_id: Type.Integer(),
  box: BoxSchema,
  score: Type.Optional(Type.Number()),
  person_id: NullableId,
  similarity: NullableNumber,
  status: Type.Union([Type.Literal('matched'), Type.Literal('review'), Type.Literal('unknown')], {
    description: 'review: matched (the person counts present) but to be confirmed: a poor face or a close call',
  }),
  ...QualityFields,
});

export const PhotoResponse = Type.Object({
  photo_id: Type.Integer(),
  width: Type.Integer(),
  height: Type.Integer(),
  duration_ms: Type.Number(),
  faces: Type.Array(Face),
});

export const Row = Type.Object({
  person_id: Type.Union([Type.Integer(), Type.Null()], { description: 'null once the person was deleted' }),
  name: Type.String(),
  status: Status,
  source: Type.Union([Type.Literal('auto'), Type.Literal('manual'), Type.Literal('cluster')], {
    description: "'cluster': marked present by enrolling an unknown-face cluster",
  }),
  similarity: NullableNumber,
  face_crop_id: NullableId,
});

export const SessionDetail = Type.Composite([
  SessionSchema,
  Type.Object({
    photos: Type.Array(
      Type.Object({
        photo_id: Type.Integer(),
        width: Type.Integer(),
        height: Type.Integer(),
        created_at: Type.String({ format: 'date-time' }),
        faces: Type.Array(Face),
      }),
    ),
    attendance: Type.Array(Row),
    unknown_faces: Type.Array(
      Type.Object({
        face_crop_id: Type.Integer(),
        photo_id: Type.Integer(),
        box: Type.Union([BoxSchema, Type.Null()]),
      }),
    ),
    summary: Type.Object({
      present: Type.Integer(),
      absent: Type.Integer(),
      unknown: Type.Integer(),
      review: Type.Integer({ description: 'Faces matched but flagged for review (their persons count present)' }),
    }),
  }),
]);

export const AuditList = Type.Object({
  count: Type.Integer(),
  results: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time' }),
      actor: Type.String(),
      action: Type.String(),
      session_id: NullableId,
      person_id: NullableId,
      person_name: Nullable(Type.String()),
      face_crop_id: NullableId,
      before: Type.Unknown(),
      after: Type.Unknown(),
      note: Nullable(Type.String()),
    }),
  ),
});

export const toSession = (s: Session, names: ModelNames): Static<typeof SessionSchema> => ({
  id: s.id,
  group_id: s.groupId,
  name: s.name,
  starts_at: s.startsAt,
  status: s.status,
  model_name: names.modelName,
  model_true_name: names.modelTrueName,
  created_at: s.createdAt,
  closed_at: s.closedAt,
});

const toFace = (f: PhotoFaceResult): Static<typeof Face> => ({
  face_crop_id: f.faceCropId,
  box: f.box,
  ...(f.score !== null && { score: f.score }),
  person_id: f.personId,
  similarity: f.similarity,
  status: f.status,
  ...toQuality(f.quality),
});

export const toPhoto = (p: PhotoResult): Static<typeof PhotoResponse> => ({
  photo_id: p.photoId,
  width: p.width,
  height: p.height,
  duration_ms: p.durationMs,
  faces: p.faces.map(toFace),
});

export const toRow = (r: AttendanceRow): Static<typeof Row> => ({
  person_id: r.personId,
  name: r.personName,
  status: r.status,
  source: r.source,
  similarity: r.similarity,
  face_crop_id: r.faceCropId,
});

export const toSessionDetail = (v: SessionView, names: ModelNames): Static<typeof SessionDetail> => ({
  ...toSession(v.session, names),
  photos: v.photos.map((p) => ({
    photo_id: p.id,
    width: p.width,
    height: p.height,
    created_at: p.createdAt,
    faces: p.faces.map(toFace),
  })),
  attendance: v.attendance.map(toRow),
  unknown_faces: v.unknownFaces.map((u) => ({ face_crop_id: u.faceCropId, photo_id: u.photoId, box: u.box })),
  summary: v.summary,
});

export const toAuditList = (r: { count: number; events: AuditEvent[] }): Static<typeof AuditList> => ({
  count: r.count,
  results: r.events.map((e) => ({
    at: e.at,
    actor: e.actor,
    action: e.action,
    session_id: e.sessionId,
    person_id: e.personId,
    person_name: e.personName,
    face_crop_id: e.faceCropId,
    before: e.before,
    after: e.after,
    note: e.note,
  })),
});
