// The one place that reads the environment (CONTRACT "Configuration"). Every variable is parsed
// once, all invalid ones are reported together, and the result is frozen.
import os from 'node:os';
import path from 'node:path';
import { ValidationError } from '../errors.js';

export type Isolation = 'pool' | 'per-request';

/** One FACEEMBED_API_KEYS entry: `NAME:KEY`, or a bare `KEY` named after its position (`key-1`, …). */
export interface ApiKey {
  /** The caller's identity in logs and the audit trail. */
  name: string;
  key: string;
}

export interface Config {
  http: { host: string; port: number; apiKeys: ApiKey[] };
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
  };
  /** Checked before any full decode (ImageTooLargeError). */
  image: { maxBytes: number; maxPixels: number };
  logLevel: string;
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) {
      problems.push(`${name} must be an integer >= ${min} (got "${raw}")`);
      return fallback;
    }
    return value;
  };
  const str = (name: string, fallback: string): string => env[name] || fallback;

  const isolation = str('FACEEMBED_ISOLATION', 'pool');
  if (isolation !== 'pool' && isolation !== 'per-request') {
    problems.push(`FACEEMBED_ISOLATION must be "pool" or "per-request" (got "${isolation}")`);
  }
  const logLevel = str('FACEEMBED_LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(`FACEEMBED_LOG_LEVEL must be a pino level (got "${logLevel}")`);
  }

  const workers = int('FACEEMBED_WORKERS', os.availableParallelism(), 1);
  const config: Config = {
    http: {
      host: str('FACEEMBED_HOST', '127.0.0.1'),
      port: int('FACEEMBED_PORT', 8000, 0),
      apiKeys: parseApiKeys(env.FACEEMBED_API_KEYS ?? '', problems),
    },
    databaseUrl: str('FACEEMBED_DATABASE_URL', 'sqlite:./data/faceembed.db'),
    mediaRoot: path.resolve(cwd, str('FACEEMBED_MEDIA_ROOT', './data/media')),
    modelsDir: path.resolve(cwd, str('FACEEMBED_MODELS_DIR', './data/models')),
    modelsConfig: env.FACEEMBED_MODELS_CONFIG ? path.resolve(cwd, env.FACEEMBED_MODELS_CONFIG) : undefined,
    pool: {
      isolation: isolation as Isolation,
      workers,
      threadsPerWorker: int('FACEEMBED_THREADS_PER_WORKER', threadsPerWorker(os.availableParallelism(), workers), 1),
      maxJobsPerWorker: int('FACEEMBED_MAX_JOBS_PER_WORKER', 1000, 1),
      workerMaxRssMb: int('FACEEMBED_WORKER_MAX_RSS_MB', 1024, 1),
      timeoutMs: int('FACEEMBED_TIMEOUT_MS', 30000, 1),
      queueLimit: int('FACEEMBED_QUEUE_LIMIT', 1000, 0),
    },
    image: {
      maxBytes: int('FACEEMBED_MAX_IMAGE_BYTES', 20 * 1024 * 1024, 1),
      maxPixels: int('FACEEMBED_MAX_IMAGE_PIXELS', 40_000_000, 1),
    },
    logLevel,
  };
  if (problems.length) throw new ValidationError(`Invalid configuration: ${problems.join('; ')}`, { problems });
  return deepFreeze(config);
}

function parseApiKeys(raw: string, problems: string[]): ApiKey[] {
  const entries = raw
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const keys = entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? `key-${i + 1}` : entry.slice(0, colon).trim();
    const key = colon < 0 ? entry : entry.slice(colon + 1).trim();
    if (!name || !key) problems.push(`FACEEMBED_API_KEYS entry ${i + 1} must be KEY or NAME:KEY`);
    return { name, key };
  });
  const names = keys.map((k) => k.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length) problems.push(`FACEEMBED_API_KEYS names must be unique (${[...new Set(twice)].join(', ')})`);
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
