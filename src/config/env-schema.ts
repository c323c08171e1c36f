// The environment variables faceembed reads: one TypeBox schema (each variable described as in
// docs/configuration.md), their defaults, and the read that fills the defaults in and turns
// integers from text into numbers. loadConfig (config.ts) checks the values and builds the Config.
import { Type, type Static } from '@sinclair/typebox';

export type Env = Record<string, string | undefined>;

const Int = (minimum: number, description: string, extra: { maximum?: number } = {}) =>
  Type.Integer({ minimum, ...extra, description });
const Str = (description: string) => Type.String({ minLength: 1, description });
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The variables read, each with its schema (docs/configuration.md). Unset or empty means the
 * default; numbers arrive as strings and are converted before the check.
 */
export const EnvSchema = Type.Object({
  FACEEMBED_HOST: Str('HTTP bind address'),
  FACEEMBED_PORT: Int(0, 'HTTP port', { maximum: 65535 }),
  FACEEMBED_DATABASE_URL: Str('sqlite:PATH or postgres://…'),
  FACEEMBED_MEDIA_ROOT: Str('image paths are relative to it'),
  FACEEMBED_MODELS_DIR: Str('prepared ONNX files'),
  FACEEMBED_MODELS_CONFIG: Type.Optional(Str('JSON file of user-supplied ONNX models')),
  FACEEMBED_WORKERS: Type.Optional(Int(1, 'worker processes (default: the cores)')),
  FACEEMBED_THREADS_PER_WORKER: Type.Optional(Int(1, 'onnxruntime threads per worker (default: cores / workers)')),
  FACEEMBED_ISOLATION: Type.Union([Type.Literal('pool'), Type.Literal('per-request')]),
  FACEEMBED_MAX_JOBS_PER_WORKER: Int(1, 'recycle a worker after this many jobs'),
  FACEEMBED_WORKER_MAX_RSS_MB: Int(1, 'recycle a worker whose RSS passes this'),
  FACEEMBED_TIMEOUT_MS: Int(1, 'per-embedding timeout'),
  FACEEMBED_QUEUE_LIMIT: Int(0, 'waiting jobs before 429'),
  FACEEMBED_IMAGES_PER_TASK: Int(1, 'most images of a batch per worker task (1: one task per image)'),
  FACEEMBED_MAX_IMAGE_BYTES: Int(1, 'larger files are ImageTooLargeError'),
  FACEEMBED_MAX_IMAGE_PIXELS: Int(1, 'larger images are ImageTooLargeError'),
  FACEEMBED_TIGHT_CROPS: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    description: 'false: every image goes through BlazeFace, tight crops too',
  }),
  FACEEMBED_API_KEYS: Type.Optional(Type.String({ description: 'comma list of KEY or NAME:KEY (admin keys)' })),
  FACEEMBED_API_KEYS_FILE: Type.Optional(Str('JSON file of keys with roles and groups')),
  FACEEMBED_AUTH_MAX_FAILURES: Int(1, 'wrong keys from one client address in the window before 429'),
  FACEEMBED_AUTH_FAILURE_WINDOW_S: Int(1, 'the window of FACEEMBED_AUTH_MAX_FAILURES, in seconds'),
  FACEEMBED_TEACHER_MAX_JOB_ITEMS: Int(1, 'items a teacher key may put in one job'),
  FACEEMBED_LOG_LEVEL: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l))),
  FACEEMBED_QUEUE_URL: Type.Optional(
    Type.String({ pattern: '^rediss?://', description: 'unset: jobs run in the server; redis://HOST:PORT/DB: BullMQ' }),
  ),
  FACEEMBED_QUEUE_PREFIX: Str('BullMQ key prefix (installations sharing one Redis)'),
  FACEEMBED_SERVER_RUNS_JOBS: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    description: 'false: the server only enqueues; worker nodes run the jobs',
  }),
  FACEEMBED_MAX_QUEUED_PHOTOS: Int(0, 'class photos queued or running (async uploads) before 503'),
  FACEEMBED_REQUIRE_CONSENT: Type.Union([Type.Literal('true'), Type.Literal('false')], {
    description: 'true: no enrolment and no matching of a person without granted consent',
  }),
  FACEEMBED_RETAIN_PHOTOS_DAYS: Type.Optional(Int(0, 'class photo files kept this many days (unset: kept)')),
  FACEEMBED_RETAIN_SESSION_FACES_DAYS: Type.Optional(
    Int(0, 'session faces that are not enrolment faces kept this many days (unset: kept)'),
  ),
  FACEEMBED_RETAIN_UNKNOWN_FACES_DAYS: Type.Optional(Int(0, 'unknown faces kept this many days (unset: kept)')),
  FACEEMBED_MEDIA_KEY_FILE: Type.Optional(
    Str('file holding the 32-byte media key (hex or base64): media encrypted at rest'),
  ),
  FACEEMBED_MEDIA_KEY: Type.Optional(Str('the 32-byte media key itself (hex or base64), instead of a file')),
  FACEEMBED_MEDIA_SWEEP_GRACE_S: Int(0, 'age before the sweep removes a .part file or a stored file no row owns'),
  FACEEMBED_MEDIA_SWEEP_INTERVAL_S: Int(0, 'seconds between media sweeps after the one at start (0: at start only)'),
});
export type EnvValues = Static<typeof EnvSchema>;

const DEFAULTS: Partial<Record<keyof EnvValues, string>> = {
  FACEEMBED_HOST: '127.0.0.1',
  FACEEMBED_PORT: '8000',
  FACEEMBED_DATABASE_URL: 'sqlite:./data/faceembed.db',
  FACEEMBED_MEDIA_ROOT: './data/media',
  FACEEMBED_MODELS_DIR: './data/models',
  FACEEMBED_ISOLATION: 'pool',
  FACEEMBED_MAX_JOBS_PER_WORKER: '1000',
  FACEEMBED_WORKER_MAX_RSS_MB: '1024',
  FACEEMBED_TIMEOUT_MS: '30000',
  FACEEMBED_QUEUE_LIMIT: '1000',
  FACEEMBED_IMAGES_PER_TASK: '8',
  FACEEMBED_MAX_IMAGE_BYTES: String(20 * 1024 * 1024),
  FACEEMBED_MAX_IMAGE_PIXELS: '40000000',
  FACEEMBED_TIGHT_CROPS: 'true',
  FACEEMBED_LOG_LEVEL: 'info',
  FACEEMBED_QUEUE_PREFIX: 'faceembed',
  FACEEMBED_SERVER_RUNS_JOBS: 'true',
  FACEEMBED_MAX_QUEUED_PHOTOS: '500',
  FACEEMBED_AUTH_MAX_FAILURES: '20',
  FACEEMBED_AUTH_FAILURE_WINDOW_S: '60',
  FACEEMBED_TEACHER_MAX_JOB_ITEMS: '1000',
  FACEEMBED_REQUIRE_CONSENT: 'false',
  FACEEMBED_MEDIA_SWEEP_GRACE_S: '600',
  FACEEMBED_MEDIA_SWEEP_INTERVAL_S: '3600',
};

/** The variables as the schema types them: defaults filled in, integers converted. */
export function readEnv(env: Env): { values: Record<string, unknown>; raw: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const raw: Record<string, string> = {};
  for (const [name, schema] of Object.entries(EnvSchema.properties)) {
    const given = env[name];
    const text = given === undefined || given === '' ? DEFAULTS[name as keyof EnvValues] : given;
    if (text === undefined) continue;
    raw[name] = text;
    const integer = (schema as { type?: string }).type === 'integer';
    values[name] = integer && /^-?\d+$/.test(text.trim()) ? Number(text) : text;
  }
  return { values, raw };
}
