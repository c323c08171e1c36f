// The one place that reads the environment (docs/configuration.md). Every variable is checked
// against one TypeBox schema, all invalid ones are reported together, and the result is frozen.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValidationError } from '../errors.js';
import { checkUnique, parseEnvKeys, parseKeyFile, type ApiKey } from './api-keys.js';

export type Isolation = 'pool' | 'per-request';

export type { ApiKey, Role } from './api-keys.js';

export interface Config {
  http: {
    host: string;
    port: number;
    /** FACEEMBED_API_KEYS (admins) and FACEEMBED_API_KEYS_FILE, held as digests. */
    apiKeys: ApiKey[];
    /** Wrong keys from one client address within the window before it gets 429 until the window ends. */
    authFailures: { max: number; windowS: number };
  };
  databaseUrl: string;
  mediaRoot: string;
  modelsDir: string;
  /** JSON file registering user-supplied ONNX models (FACEEMBED_MODELS_CONFIG). */
  modelsConfig: string | undefined;
  pool: {
    isolation: Isolation;
    workers: number;
    /** onnxruntime intra-op threads per worker: the cores shared out among the workers. */
    threadsPerWorker: number;
    maxJobsPerWorker: number;
    workerMaxRssMb: number;
    timeoutMs: number;
    queueLimit: number;
    /** Most images of a batch per worker task (1: one task per image). */
    imagesPerTask: number;
  };
  /** Checked before any full decode (ImageTooLargeError). */
  image: { maxBytes: number; maxPixels: number };
  /** Tight crops (one face filling the image) aligned from FaceMesh alone, BlazeFace skipped (FACEEMBED_TIGHT_CROPS). */
  tightCrops: boolean;
  logLevel: string;
  /** Files under the media root (docs/privacy.md "Files and encryption"). */
  media: {
    /** AES-256-GCM key (64 hex characters) the media files are encrypted with; undefined: stored plain. */
    key: string | undefined;
    /** A .part file or an unowned stored file younger than this is left alone by the sweep. */
    sweepGraceMs: number;
    /** The sweep runs at start and then every so often; 0: at start only. */
    sweepIntervalMs: number;
  };
  /** Long work (docs/api.md "Jobs (long work)"): unset queueUrl = embedded engine in the server. */
  jobs: {
    queueUrl: string | undefined;
    queuePrefix: string;
    serverRunsJobs: boolean;
    /** Class photos queued or running at most (async uploads past it: 503). */
    maxQueuedPhotos: number;
    /** Items a teacher key's job may hold (readers start none, admins up to the kind's own limit). */
    teacherMaxItems: number;
  };
  /** Biometric data (docs/privacy.md). */
  privacy: {
    /** No enrolment and no matching of a person without granted consent. */
    requireConsent: boolean;
    /** Days each kind of data is kept; null: kept until erased by hand. */
    retention: RetentionSchedule;
  };
}

/** The retention schedule (FACEEMBED_RETAIN_*_DAYS); null: kept. */
export interface RetentionSchedule {
  /** Class photos (the files; their rows stay, marked purged). */
  photosDays: number | null;
  /** Faces cut from class photos that are nobody's enrolment face (matched or unknown). */
  sessionFacesDays: number | null;
  /** Of those, the faces nobody was matched to (the unknown-face clusters). */
  unknownFacesDays: number | null;
}

type Env = Record<string, string | undefined>;

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
type EnvValues = Static<typeof EnvSchema>;

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
function readEnv(env: Env): { values: Record<string, unknown>; raw: Record<string, string> } {
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

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const { values, raw } = readEnv(env);
  const problems = [...Value.Errors(EnvSchema, values)].map((e) => {
    const name = e.path.slice(1);
    return `${name}: ${e.message} (got "${raw[name] ?? ''}")`;
  });
  const apiKeys = readApiKeys(values, cwd, problems);
  const mediaKey = readMediaKey(values, cwd, problems);
  if (problems.length) throw new ValidationError(`Invalid configuration: ${problems.join('; ')}`, { problems });
  const v = values as EnvValues;
  const workers = v.FACEEMBED_WORKERS ?? os.availableParallelism();
  const config: Config = {
    http: {
      host: v.FACEEMBED_HOST,
      port: v.FACEEMBED_PORT,
      apiKeys,
      authFailures: { max: v.FACEEMBED_AUTH_MAX_FAILURES, windowS: v.FACEEMBED_AUTH_FAILURE_WINDOW_S },
    },
    databaseUrl: v.FACEEMBED_DATABASE_URL,
    mediaRoot: path.resolve(cwd, v.FACEEMBED_MEDIA_ROOT),
    modelsDir: path.resolve(cwd, v.FACEEMBED_MODELS_DIR),
    modelsConfig: v.FACEEMBED_MODELS_CONFIG ? path.resolve(cwd, v.FACEEMBED_MODELS_CONFIG) : undefined,
    pool: {
      isolation: v.FACEEMBED_ISOLATION,
      workers,
      threadsPerWorker: v.FACEEMBED_THREADS_PER_WORKER ?? threadsPerWorker(os.availableParallelism(), workers),
      maxJobsPerWorker: v.FACEEMBED_MAX_JOBS_PER_WORKER,
      workerMaxRssMb: v.FACEEMBED_WORKER_MAX_RSS_MB,
      timeoutMs: v.FACEEMBED_TIMEOUT_MS,
      queueLimit: v.FACEEMBED_QUEUE_LIMIT,
      imagesPerTask: v.FACEEMBED_IMAGES_PER_TASK,
    },
    image: { maxBytes: v.FACEEMBED_MAX_IMAGE_BYTES, maxPixels: v.FACEEMBED_MAX_IMAGE_PIXELS },
    tightCrops: v.FACEEMBED_TIGHT_CROPS !== 'false',
    logLevel: v.FACEEMBED_LOG_LEVEL,
    media: {
      key: mediaKey,
      sweepGraceMs: v.FACEEMBED_MEDIA_SWEEP_GRACE_S * 1000,
      sweepIntervalMs: v.FACEEMBED_MEDIA_SWEEP_INTERVAL_S * 1000,
    },
    jobs: {
      queueUrl: v.FACEEMBED_QUEUE_URL,
      queuePrefix: v.FACEEMBED_QUEUE_PREFIX,
      serverRunsJobs: v.FACEEMBED_SERVER_RUNS_JOBS !== 'false',
      maxQueuedPhotos: v.FACEEMBED_MAX_QUEUED_PHOTOS,
      teacherMaxItems: v.FACEEMBED_TEACHER_MAX_JOB_ITEMS,
    },
    privacy: {
      requireConsent: v.FACEEMBED_REQUIRE_CONSENT === 'true',
      retention: {
        photosDays: v.FACEEMBED_RETAIN_PHOTOS_DAYS ?? null,
        sessionFacesDays: v.FACEEMBED_RETAIN_SESSION_FACES_DAYS ?? null,
        unknownFacesDays: v.FACEEMBED_RETAIN_UNKNOWN_FACES_DAYS ?? null,
      },
    },
  };
  return deepFreeze(config);
}

/** The media key as 64 hex characters: from FACEEMBED_MEDIA_KEY_FILE or FACEEMBED_MEDIA_KEY, never both. */
function readMediaKey(values: Record<string, unknown>, cwd: string, problems: string[]): string | undefined {
  const file = values.FACEEMBED_MEDIA_KEY_FILE;
  const text = values.FACEEMBED_MEDIA_KEY;
  if (typeof file === 'string' && typeof text === 'string') {
    problems.push('FACEEMBED_MEDIA_KEY_FILE and FACEEMBED_MEDIA_KEY: set one of them, not both');
    return undefined;
  }
  if (typeof text === 'string') return parseMediaKey(text, 'FACEEMBED_MEDIA_KEY', problems);
  if (typeof file !== 'string') return undefined;
  let content: string;
  try {
    content = readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (err) {
    problems.push(`FACEEMBED_MEDIA_KEY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  return parseMediaKey(content, 'FACEEMBED_MEDIA_KEY_FILE', problems);
}

/** 32 bytes written as 64 hex characters or as base64; the key never appears in a message. */
export function parseMediaKey(text: string, name: string, problems: string[]): string | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return t.toLowerCase();
  if (/^[A-Za-z0-9+/]{43}=?$/.test(t)) {
    const bytes = Buffer.from(t, 'base64');
    if (bytes.length === 32) return bytes.toString('hex');
  }
  problems.push(`${name}: the media key must be 32 bytes, written as 64 hex characters or as base64`);
  return undefined;
}

/**
 * The media key of a worker process: its parent passes it in the worker's environment only
 * (FACEEMBED_MEDIA_KEY, never on the command line, where other users could read it).
 */
export function workerMediaKey(env: Env = process.env): Buffer | undefined {
  const problems: string[] = [];
  const text = env.FACEEMBED_MEDIA_KEY;
  const hex = text ? parseMediaKey(text, 'FACEEMBED_MEDIA_KEY', problems) : undefined;
  if (problems.length) throw new ValidationError(`Invalid configuration: ${problems.join('; ')}`, { problems });
  return hex === undefined ? undefined : Buffer.from(hex, 'hex');
}

/** Both key sources; a file that cannot be read or parsed is a configuration problem. */
function readApiKeys(values: Record<string, unknown>, cwd: string, problems: string[]): ApiKey[] {
  const env = typeof values.FACEEMBED_API_KEYS === 'string' ? values.FACEEMBED_API_KEYS : '';
  const keys = parseEnvKeys(env, problems);
  const file = values.FACEEMBED_API_KEYS_FILE;
  if (typeof file === 'string') {
    let text: string | undefined;
    try {
      text = readFileSync(path.resolve(cwd, file), 'utf8');
    } catch (err) {
      problems.push(`FACEEMBED_API_KEYS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
    if (text !== undefined) keys.push(...parseKeyFile(text, file, problems));
  }
  checkUnique(keys, problems);
  return keys;
}

/**
 * The one rule for onnxruntime threads: a budget of threads shared out among the workers, at
 * least one each. The default budget is the cores; a service sized differently from the
 * configuration keeps the configured budget (workers x threads per worker).
 */
export function threadsPerWorker(threadBudget: number, workers: number): number {
  return Math.max(1, Math.floor(threadBudget / workers));
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}
