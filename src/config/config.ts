// The one place that reads the environment (docs/configuration.md). Every variable is checked
// against one TypeBox schema (env-schema.ts), all invalid ones are reported together, and the
// result is frozen.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { ValidationError } from '../errors.js';
import { checkUnique, parseEnvKeys, parseKeyFile, type ApiKey } from './api-keys.js';
import { EnvSchema, readEnv, type Env, type EnvValues } from './env-schema.js';
import { readMediaKey } from './media-key.js';

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
