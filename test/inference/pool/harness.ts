// Shared pieces of the pool tests: fixture paths, a logger and an event log that tests can wait
// on (synchronising on messages, not sleeps), and /proc helpers to see child processes.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PoolEvent, PoolLogger, WorkerPoolOptions } from '../../../src/inference/pool/pool-options.js';
import { WorkerPool } from '../../../src/inference/pool/worker-pool.js';
import type { EchoOutput, EchoTask } from '../../fixtures/workers/echo-output.js';

export type FixtureName = 'echo' | 'crash-on-demand' | 'hang' | 'exit-during-boot' | 'leak' | 'pool-parent';

/** Compiled fixture: dist/test/fixtures/workers/<name>.js. */
export const fixture = (name: FixtureName) =>
  fileURLToPath(new URL(`../../fixtures/workers/${name}.js`, import.meta.url));

/** A fixture task (fixtures/workers/echo-output.ts): the fixtures read commands from its input. */
export const task = (input: string): EchoTask => ({ input });

/** A list that can be awaited for an element matching a predicate (past or future). */
export class Recorder<T> {
  readonly items: T[] = [];
  private waiters: { match: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(item)) return true;
      w.resolve(item);
      return false;
    });
  }

  /** Resolves with the first matching item, rejecting after timeoutMs so a broken test fails instead of hanging. */
  waitFor(match: (item: T) => boolean, timeoutMs = 10_000, skip = 0): Promise<T> {
    const past = this.items.filter(match)[skip];
    if (past) return Promise.resolve(past);
    let seen = this.items.filter(match).length;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`waitFor: nothing matched within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match: (item) => match(item) && seen++ >= skip,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      });
    });
  }

  filter(match: (item: T) => boolean): T[] {
    return this.items.filter(match);
  }
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string | undefined;
  fields: Record<string, unknown>;
}

export class RecordingLogger extends Recorder<LogEntry> implements PoolLogger {
  debug = (obj: object, msg?: string) => this.push({ level: 'debug', msg, fields: { ...obj } });
  info = (obj: object, msg?: string) => this.push({ level: 'info', msg, fields: { ...obj } });
  warn = (obj: object, msg?: string) => this.push({ level: 'warn', msg, fields: { ...obj } });
  error = (obj: object, msg?: string) => this.push({ level: 'error', msg, fields: { ...obj } });

  /** The nth (0-based) 'job started' line a worker logged. */
  jobStarted(nth = 0, timeoutMs?: number): Promise<LogEntry> {
    return this.waitFor((e) => e.msg === 'job started', timeoutMs, nth);
  }
}

export interface TestPool {
  pool: WorkerPool<EchoTask, EchoOutput>;
  log: RecordingLogger;
  events: Recorder<PoolEvent>;
}

export function makePool(worker: FixtureName, overrides: Partial<WorkerPoolOptions> = {}): TestPool {
  const log = new RecordingLogger();
  const events = new Recorder<PoolEvent>();
  const pool = new WorkerPool<EchoTask, EchoOutput>({
    modulePath: fixture(worker),
    workers: 1,
    queueLimit: 10,
    timeoutMs: 10_000,
    maxJobsPerWorker: 1000,
    maxRssMb: 1024,
    shutdownGraceMs: 2_000,
    logger: log,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  return { pool, log, events };
}

/** State letter from /proc/<pid>/stat ('R', 'S', 'T', 'Z' ...), undefined once the pid is gone. */
export function procState(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Gone, or a zombie nobody has reaped yet (it runs no code). */
export const isGone = (pid: number) => {
  const s = procState(pid);
  return s === undefined || s.state === 'Z';
};

/** Live (non-zombie) children of a process, read from /proc like `pgrep -P`. */
export function childPids(parent = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procState(Number(entry));
    if (s && s.ppid === parent && s.state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/** Polls (every 20 ms) until check() is true; false after timeoutMs. */
export async function pollUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
