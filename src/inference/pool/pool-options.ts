// Options, events and stats of the worker pool, and the validation (one TypeBox schema) that
// rejects unknown or malformed options up front (workerpool validateOptions.js), all at once.
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
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

const Fn = Type.Function([Type.Any()], Type.Any());
const Ms = (minimum: number) => Type.Number({ minimum });
const PositiveMs = Type.Number({ exclusiveMinimum: 0 });

/** The options as a schema: unknown keys are refused (workerpool validateOptions.js). */
export const PoolOptionsSchema = Type.Object(
  {
    modulePath: Type.String({ minLength: 1 }),
    args: Type.Optional(Type.Array(Type.String())),
    env: Type.Optional(Type.Record(Type.String(), Type.Any())),
    execArgv: Type.Optional(Type.Array(Type.String())),
    workers: Type.Integer({ minimum: 1 }),
    queueLimit: Type.Integer({ minimum: 0 }),
    timeoutMs: PositiveMs,
    maxJobsPerWorker: Type.Integer({ minimum: 1 }),
    maxRssMb: PositiveMs,
    // Checked below: a pino logger's methods live on its prototype, which an object schema does not see.
    logger: Type.Any(),
    onEvent: Type.Optional(Fn),
    bootTimeoutMs: Type.Optional(PositiveMs),
    shutdownGraceMs: Type.Optional(Ms(0)),
    backoffInitialMs: Type.Optional(Ms(0)),
    backoffMaxMs: Type.Optional(Ms(0)),
  },
  { additionalProperties: false },
);

const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'] as const;

/** Reports every problem at once; ValueError with `details.problems`. */
export function resolvePoolOptions(options: WorkerPoolOptions): ResolvedPoolOptions {
  const defined = Object.fromEntries(
    Object.entries(options as unknown as Record<string, unknown>).filter(([, v]) => v !== undefined),
  ) as Partial<WorkerPoolOptions>;
  const problems = [
    ...new Set(
      [...Value.Errors(PoolOptionsSchema, defined)].map(
        (e) => `option "${e.path.slice(1).replaceAll('/', '.')}": ${e.message}`,
      ),
    ),
  ];
  const logger = defined.logger as unknown as Record<string, unknown> | undefined;
  for (const method of LOGGER_METHODS) {
    if (typeof logger?.[method] !== 'function') problems.push(`option "logger.${method}": Expected function`);
  }
  if (problems.length > 0) throw new ValueError(`Invalid worker pool options: ${problems.join('; ')}`, { problems });
  return { ...DEFAULTS, ...defined } as ResolvedPoolOptions;
}

/** No delay for the first unexpected exit; then initial, 2x, 4x ... capped at max. */
export function restartDelay(streak: number, initialMs: number, maxMs: number): number {
  if (streak <= 1) return 0;
  return Math.min(maxMs, initialMs * 2 ** (streak - 2));
}
