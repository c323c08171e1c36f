// Response shapes of the API, typed from the server's own TypeBox route schemas (type-only
// imports: nothing of the server reaches the bundle, and a changed schema fails `npm run build`).
import type { Static } from '@sinclair/typebox';
import type { Crop, CropDetail } from '../../../src/http/routes/face-crops/schema.js';
import type { GroupBody } from '../../../src/http/routes/groups/schema.js';
import type {
  ConsentAnswer as ConsentAnswerBody,
  EnrolmentBody,
  PersonBody,
  ReceiptBody,
} from '../../../src/http/routes/persons/schema.js';
import type {
  AuditList,
  PhotoResponse,
  Row,
  SessionDetail,
  SessionSchema,
} from '../../../src/http/routes/sessions/schema.js';
import type { Cluster, EnrolResponse } from '../../../src/http/routes/unknown-clusters/schema.js';
import type { ErrorEnvelope } from '../../../src/http/schemas.js';
import type { JobResponse, SessionPhotoAccepted } from '../../../src/http/routes/jobs/schema.js';

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
/** The receipt of an erasure (POST persons/{id}/erase/). */
export type ErasureReceipt = Static<typeof ReceiptBody>;
/** The answer to PUT persons/{id}/consent/: the person, and the receipt when withdrawal erased. */
export type ConsentAnswer = Static<typeof ConsentAnswerBody>;
/** The answer to an enrolment (POST persons/{id}/faces/); the gallery lists them as face crops. */
export type Enrolment = Static<typeof EnrolmentBody>;
export type Group = Static<typeof GroupBody>;

/** A session as listed (GET sessions/). */
export type SessionSummary = Static<typeof SessionSchema>;
/** A session with its photos, attendance rows and unknown faces (GET sessions/{id}/). */
export type Session = Static<typeof SessionDetail>;
/** The answer to a class photo upload (POST sessions/{id}/photos/). */
export type PhotoResult = Static<typeof PhotoResponse>;
export type PhotoFace = PhotoResult['faces'][number];
export type FaceStatus = PhotoFace['status'];
export type SessionPhoto = Session['photos'][number];
export type AttendanceRow = Static<typeof Row>;
export type UnknownFace = Session['unknown_faces'][number];
export type AuditEvent = Static<typeof AuditList>['results'][number];

/** A job (GET jobs/{id}/); a class photo's (kind session-photo) result is a PhotoResult or {error}. */
export type Job = Static<typeof JobResponse>;
/** The 202 of an async class photo upload. */
export type PhotoJob = Static<typeof SessionPhotoAccepted>;

/** A class photo uploaded in this tab, once its faces are known: the answer and a local preview. */
export interface UploadedPhoto {
  photoId: number;
  width: number;
  height: number;
  faces: PhotoFace[];
  previewUrl: string;
}

/** Unknown faces of a group's sessions, grouped by person (GET groups/{id}/unknown-clusters/). */
export type UnknownCluster = Static<typeof Cluster>;
export type ClusterEnrolment = Static<typeof EnrolResponse>;
