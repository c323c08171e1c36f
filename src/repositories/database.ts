// Opens the one database the service uses: embedded SQLite (better-sqlite3, WAL) or PostgreSQL
// (pg Pool), chosen by FACEEMBED_DATABASE_URL. Both store the same columns and the same bytes.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type ColumnType, type Generated } from 'kysely';
import { ValidationError } from '../errors.js';

export interface FaceCropTable {
  id: Generated<number>;
  /** Relative to the media root, '/'-separated. */
  image_path: string;
  width: number;
  height: number;
  sha256: string;
  /** persons.id; ON DELETE SET NULL. */
  person_id: number | null;
  label: string | null;
  /** JSON [x, y, width, height] in the source photo, when the crop was cut from one. */
  box: string | null;
  /** The photo the crop was cut from (no foreign key yet). */
  source_photo_id: number | null;
  /** Quality of a face cut from a photo (null for other crops): the face box's width in photo pixels, */
  width_px: ColumnType<number | null, number | null | undefined, number | null>;
  /** the variance of the Laplacian of the aligned grey face, */
  sharpness: ColumnType<number | null, number | null | undefined, number | null>;
  /** and the head's yaw and roll in degrees, estimated from the five landmarks. */
  yaw: ColumnType<number | null, number | null | undefined, number | null>;
  roll: ColumnType<number | null, number | null | undefined, number | null>;
  /** ISO text in SQLite, timestamptz (read back as Date) in PostgreSQL. */
  created_at: ColumnType<Date | string, string, never>;
}

export interface FaceEmbeddingTable {
  id: Generated<number>;
  face_crop_id: number;
  model_name: string;
  model_version: string;
  dimensions: number;
  /** Little-endian float32 values. */
  embedding: Uint8Array;
  created_at: ColumnType<Date | string, string, string>;
}

export interface PersonTable {
  id: Generated<number>;
  name: string;
  /** Unique when set. */
  external_id: string | null;
  /** A JSON object, as text. */
  metadata: string;
  created_at: ColumnType<Date | string, string, never>;
  /** granted | withdrawn | unknown (the default). */
  consent_status: ColumnType<ConsentStatus, ConsentStatus | undefined, ConsentStatus>;
  /** Who recorded the consent decision, when, and on what basis (free text). */
  consent_by: ColumnType<string | null, string | null | undefined, string | null>;
  consent_at: ColumnType<Date | string | null, string | null | undefined, string | null>;
  consent_basis: ColumnType<string | null, string | null | undefined, string | null>;
}

export type ConsentStatus = 'granted' | 'withdrawn' | 'unknown';

export interface GroupTable {
  id: Generated<number>;
  name: string;
  /** Unique when set. */
  external_id: string | null;
  created_at: ColumnType<Date | string, string, never>;
}

export interface GroupMemberTable {
  group_id: number;
  person_id: number;
}

export type SessionStatus = 'open' | 'closed';
export type AttendanceStatus = 'present' | 'absent';
/** 'cluster': marked present by the enrolment of an unknown-face cluster. */
export type AttendanceSource = 'auto' | 'manual' | 'cluster';

export interface SessionTable {
  id: Generated<number>;
  group_id: number;
  name: string | null;
  starts_at: ColumnType<Date | string | null, string | null, string | null>;
  status: SessionStatus;
  /** The model the session's faces are embedded and matched with. */
  model_name: string;
  created_at: ColumnType<Date | string, string, never>;
  closed_at: ColumnType<Date | string | null, string | null, string | null>;
}

export interface SessionPhotoTable {
  id: Generated<number>;
  session_id: number;
  /** Relative to the media root. */
  image_path: string;
  width: number;
  height: number;
  created_at: ColumnType<Date | string, string, never>;
  /** Set when a retention purge removed the file (the row stays). */
  purged_at: ColumnType<Date | string | null, string | null | undefined, string | null>;
}

export interface AttendanceTable {
  id: Generated<number>;
  session_id: number;
  /** persons.id; ON DELETE SET NULL (the row and person_name stay). */
  person_id: number | null;
  person_name: string;
  status: AttendanceStatus;
  source: AttendanceSource;
  similarity: number | null;
  face_crop_id: number | null;
  updated_at: string | Date;
}

export interface AuditEventTable {
  id: Generated<number>;
  at: ColumnType<Date | string, string, never>;
  actor: string;
  action: string;
  /** No foreign keys: the trail outlives what it names. */
  session_id: number | null;
  person_id: number | null;
  person_name: string | null;
  face_crop_id: number | null;
  /** JSON text. */
  before: string | null;
  after: string | null;
  note: string | null;
}

export interface JobTable {
  id: Generated<number>;
  kind: string;
  /** queued | running | cancelling | completed | failed | cancelled */
  status: string;
  /** '' for an enrol job: enrolment embeds with every registered model. */
  model_name: string;
  /** 0 or 1 (force_regenerate). */
  force: number;
  total: number;
  error: string | null;
  created_at: ColumnType<Date | string, string, never>;
  started_at: ColumnType<Date | string | null, string | null, string | null>;
  finished_at: ColumnType<Date | string | null, string | null, string | null>;
  /** session-photo jobs: the session the photo goes to. */
  session_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** session-photo jobs: who uploaded it (the audit trail's actor). */
  actor: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface JobItemTable {
  job_id: number;
  /** The face crop (generate-embeddings) or the photo's number in its job, 1..n (enrol). */
  item_id: number;
  /** pending | running | generated | existing | enrolled | stored | failed */
  status: string;
  attempts: number;
  error_type: string | null;
  error_message: string | null;
  /** A failed item's error details (JSON object), as an HTTP error body carries them. */
  error_details: string | null;
  /** The process that ran it last (host:pid). */
  node: string | null;
  finished_at: ColumnType<Date | string | null, string | null, string | null>;
  /** Enrol items: the photo, relative to the media root. */
  image_path: string | null;
  /** Enrol items: the person the photo goes to. */
  person_id: number | null;
  /** Enrol items: the face crop enrolled (or found already enrolled). */
  enrolled_face_crop_id: number | null;
  /** session-photo items, once done: the upload's answer (JSON). */
  result: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface UnknownClusterTable {
  id: Generated<number>;
  group_id: number;
  /** The model whose embeddings the cluster was built with. */
  model_name: string;
  /** Set once the cluster was enrolled as this person. */
  person_id: number | null;
  enrolled_at: ColumnType<Date | string | null, string | null, string | null>;
  created_at: ColumnType<Date | string, string, never>;
}

/** A face of a session's photo that answers a member: by the solve (auto, rewritten by each re-solve) or by hand. */
export interface SessionFaceMatchTable {
  face_crop_id: number;
  session_id: number;
  person_id: number;
  similarity: number | null;
  source: 'auto' | 'manual';
}

export interface UnknownClusterFaceTable {
  cluster_id: number;
  face_crop_id: number;
}

export interface DB {
  face_crops: FaceCropTable;
  face_embeddings: FaceEmbeddingTable;
  persons: PersonTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  sessions: SessionTable;
  session_photos: SessionPhotoTable;
  attendance: AttendanceTable;
  audit_events: AuditEventTable;
  jobs: JobTable;
  job_items: JobItemTable;
  unknown_clusters: UnknownClusterTable;
  unknown_cluster_faces: UnknownClusterFaceTable;
  session_face_matches: SessionFaceMatchTable;
}

export type Database = Kysely<DB>;
export type DatabaseKind = 'sqlite' | 'postgres';

export interface OpenDatabaseOptions {
  /** Base for relative SQLite paths (default: process working directory). */
  cwd?: string;
  /** Called when an idle PostgreSQL connection fails (the pool drops it and reconnects). */
  onPoolError?: (err: Error) => void;
}

const SQLITE_JOURNAL_MODES = new Set(['wal', 'delete', 'truncate', 'persist', 'memory', 'off']);

/**
 * `sqlite:PATH` (relative to cwd, parent directory created; `sqlite::memory:` for tests;
 * `?journal_mode=delete` overrides the WAL default) or `postgres://…` / `postgresql://…`.
 */
export function openDatabase(url: string, opts: OpenDatabaseOptions = {}): Database {
  if (/^postgres(ql)?:\/\//i.test(url)) return openPostgres(url, opts);
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length), opts.cwd ?? process.cwd());
  throw new ValidationError(`Unsupported database URL "${redact(url)}": use sqlite:PATH or postgres://…`);
}

function openSqlite(spec: string, cwd: string): Database {
  const [rawPath = '', query = ''] = spec.split('?', 2);
  const params = new URLSearchParams(query);
  const journal = (params.get('journal_mode') ?? 'wal').toLowerCase();
  if (!SQLITE_JOURNAL_MODES.has(journal)) throw new ValidationError(`Unsupported SQLite journal_mode "${journal}"`);
  // sqlite:///abs/path and sqlite://./rel are accepted as well as sqlite:PATH.
  const file = rawPath.replace(/^\/\/(?=[/.])/, '');
  if (!file) throw new ValidationError('SQLite URL has no path: use sqlite:./data/faceembed.db');
  const memory = file === ':memory:';
  const abs = memory ? file : path.resolve(cwd, file);
  if (!memory) mkdirSync(path.dirname(abs), { recursive: true });
  const database = new BetterSqlite3(abs);
  if (!memory) database.pragma(`journal_mode = ${journal}`);
  // WAL with synchronous=NORMAL is durable across application crashes, and a commit costs no fsync.
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return new Kysely<DB>({ dialect: new SqliteDialect({ database }) });
}

function openPostgres(url: string, opts: OpenDatabaseOptions): Database {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // Without a listener an idle-connection error (server restart) would crash the process.
  pool.on('error', (err) => opts.onPoolError?.(err));
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

export function databaseKind<T>(db: Kysely<T>): DatabaseKind {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Throws when the database cannot answer a trivial query. */
export async function pingDatabase<T>(db: Kysely<T>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** Hides the password of a connection URL for messages and logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
