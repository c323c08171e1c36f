// Response shapes of the API, typed from the server's own TypeBox route schemas (type-only
// imports: nothing of the server reaches the bundle, and a changed schema fails `npm run build`).
// Shapes marked CONTRACT follow ../shared CONTRACT.md until their routes exist on this branch;
// each then becomes a `Static<typeof …>` of its route schema.
import type { Static } from '@sinclair/typebox';
import type { Crop, CropDetail } from '../../../src/http/routes/face-crops/schema.js';
import type { GroupBody } from '../../../src/http/routes/groups/schema.js';
import type { EnrolmentBody, PersonBody } from '../../../src/http/routes/persons/schema.js';
import type { ErrorEnvelope } from '../../../src/http/schemas.js';

export type FaceCrop = Static<typeof Crop>;
export type FaceCropDetail = Static<typeof CropDetail>;
export type ErrorBody = Static<typeof ErrorEnvelope>;

/** [x, y, width, height] in pixels of the oriented image. */
export type Box = [number, number, number, number];

export interface Page<T> {
  count: number;
  results: T[];
}

export type Person = Static<typeof PersonBody>;
/** The answer to an enrolment (POST persons/{id}/faces/); the gallery lists them as face crops. */
export type Enrolment = Static<typeof EnrolmentBody>;
export type Group = Static<typeof GroupBody>;

// CONTRACT "Attendance sessions"
export type FaceStatus = 'matched' | 'unknown';

export interface PhotoFace {
  face_crop_id: number;
  box: number[];
  score?: number;
  person_id: number | null;
  similarity: number | null;
  status: FaceStatus;
}

export interface SessionPhoto {
  photo_id: number;
  width: number;
  height: number;
  duration_ms?: number;
  faces?: PhotoFace[];
}

export interface AttendanceRow {
  /** null once the person was deleted */
  person_id: number | null;
  name: string;
  status: 'present' | 'absent';
  source: 'auto' | 'manual';
  similarity: number | null;
  face_crop_id: number | null;
}

export interface UnknownFace {
  face_crop_id: number;
  photo_id: number;
  box: number[] | null;
}

export interface Session {
  id: number;
  group_id: number;
  name: string | null;
  status: 'open' | 'closed';
  starts_at?: string | null;
  created_at?: string;
  photos: SessionPhoto[];
  attendance: AttendanceRow[];
  unknown_faces: UnknownFace[];
  summary: { present: number; absent: number; unknown: number };
}

export interface AuditEvent {
  at: string;
  actor: string;
  action: string;
  session_id: number | null;
  person_id: number | null;
  face_crop_id: number | null;
  before: unknown;
  after: unknown;
}
