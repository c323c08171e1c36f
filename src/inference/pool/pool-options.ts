// Options, events and stats of the worker pool, and the validation that rejects unknown or
// malformed options up front (workerpool validateOptions.js) instead of misbehaving later.
import { ValueError, type ErrorType } from '../../errors.js';

/** Minimal structured logger; a pino.Logger satisfies it. */
export interface PoolLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Why a worker left service and a replacement started. */
export type RestartCause = 'crash' | 'boot-crash' | 'timeout' | 'abort' | 'recycle-jobs' | 'recycle-rss';
export const RESTART_CAUSES: readonly RestartCause[] = [
  'crash',
  'boot-crash',
  'timeout',
  'abort',
  'recycle-jobs',
  'recycle-rss',
];

/** For metrics. Emitted synchronously; a throwing listener is logged and ignored. */
export type PoolEvent =
  | { type: 'worker-ready'; workerId: number; pid: number; bootMs: number }
  | { type: 'restart'; cause: RestartCause; workerId: number; pid: number | undefined }
  | { type: 'retry'; jobId: number; workerId: number; pid: number | undefined }
  | { type: 'job'; jobId: number; outcome: 'ok' | ErrorType; attempts: number; queuedMs: number; durationMs: number };

export interface WorkerPoolOptions {
  /** Module run in each child; it must call serveWorker(). */
  modulePath: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Node flags for the children; default none (the parent's --inspect etc. are not inherited). */
  execArgv?: string[];
  workers: number;
  /** Jobs that may wait for a worker; beyond it run() rejects with OverloadedError. */
  queueLimit: number;
  /** Per-attempt run time; past it the worker is SIGKILLed and the job rejects with TimeoutError. */
  timeoutMs: number;
  maxJobsPerWorker: number;
  maxRssMb: number;
  logger: PoolLogger;
  onEvent?: (e: PoolEvent) => void;
  /** Time a worker may take from spawn to 'ready' (default 60 s). */
  bootTimeoutMs?: number;
  /** Time a worker told to shut down gets before SIGKILL (default 5 s). */
  shutdownGraceMs?: number;
  /** Restart delay after the 2nd consecutive unexpected exit, doubling each time (default 100 ms). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

export type ResolvedPoolOptions = Required<Omit<WorkerPoolOptions, 'onEvent' | 'env'>> &
  Pick<WorkerPoolOptions, 'onEvent' | 'env'>;

export interface PoolStats {
  /** Workers in service (booting, idle or busy); retiring ones are not counted. */
  workers: number;
  booting: number;
  busy: number;
  idle: number;
  queued: number;
  restarts: Record<RestartCause, number>;
  /** Pids of the workers in service. */
  pids: number[];
}

const DEFAULTS = {
  args: [],
  execArgv: [],
  bootTimeoutMs: 60_000,
  shutdownGraceMs: 5_000,
  backoffInitialMs: 100,
  backoffMaxMs: 10_000,
};

type Check = (v: unknown) => boolean;
const int =
  (min: number): Check =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min;
const positive: Check = (v) => typeof v === 'number' && Number.isFinite(v) && v > 0;
const strings: Check = (v) => Array.isArray(v) && v.every((s) => typeof s === 'string');
const fn: Check = (v) => typeof v === 'function';

const CHECKS: Record<keyof WorkerPoolOptions, { check: Check; required: boolean; expect: string }> = {
  modulePath: { check: (v) => typeof v === 'string' && v.length > 0, required: true, expect: 'a non-empty string' },
  args: { check: strings, required: false, expect: 'an array of strings' },
  env: { check: (v) => typeof v === 'object' && v !== null, required: false, expect: 'an object' },
  execArgv: { check: strings, required: false, expect: 'an array of strings' },
  workers: { check: int(1), required: true, expect: 'an integer >= 1' },
  queueLimit: { check: int(0), required: true, expect: 'an integer >= 0' },
  timeoutMs: { check: positive, required: true, expect: 'a positive number' },
  maxJobsPerWorker: { check: int(1), required: true, expect: 'an integer >= 1' },
  maxRssMb: { check: positive, required: true, expect: 'a positive number' },
  logger: {
    check: (v) =>
      typeof v === 'object' &&
      v !== null &&
      ['debug', 'info', 'warn', 'error'].every((k) => fn((v as Record<string, unknown>)[k])),
    required: true,
    expect: 'an object with debug/info/warn/error methods',
  },
  onEvent: { check: fn, required: false, expect: 'a function' },
  bootTimeoutMs: { check: positive, required: false, expect: 'a positive number' },
  shutdownGraceMs: { check: (v) => typeof v === 'number' && v >= 0, required: false, expect: 'a number >= 0' },
  backoffInitialMs: { check: (v) => typeof v === 'number' && v >= 0, required: false, expect: 'a number >= 0' },
  backoffMaxMs: { check: (v) => typeof v === 'number' && v >= 0, required: false, expect: 'a number >= 0' },
};

/** Reports every problem at once; ValueError with `details.problems`. */
export function resolvePoolOptions(options: WorkerPoolOptions): ResolvedPoolOptions {
  const given = options as unknown as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(CHECKS, key)) problems.push(`unknown option "${key}"`);
  }
  for (const [key, { check, required, expect }] of Object.entries(CHECKS)) {
    const value = given[key];
    if (value === undefined) {
      if (required) problems.push(`option "${key}" is required (${expect})`);
    } else if (!check(value)) {
      problems.push(`option "${key}" must be ${expect}`);
    }
  }
  if (problems.length > 0) throw new ValueError(`Invalid worker pool options: ${problems.join('; ')}`, { problems });
  const defined = Object.fromEntries(
    Object.entries(given).filter(([, v]) => v !== undefined),
  ) as Partial<WorkerPoolOptions>;
  return { ...DEFAULTS, ...defined } as ResolvedPoolOptions;
}

/** No delay for the first unexpected exit; then initial, 2x, 4x ... capped at max. */
export function restartDelay(streak: number, initialMs: number, maxMs: number): number {
  if (streak <= 1) return 0;
  return Math.min(maxMs, initialMs * 2 ** (streak - 2));
}
