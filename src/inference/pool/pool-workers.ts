// The pool's worker processes: starting them up to the configured count (each with its boot
// timeout), counting restarts by cause, and spacing restarts out while workers keep dying
// (restartDelay). Jobs are the pool's: it reports completed jobs and unexpected exits here, and
// decides what becomes of a dead worker's job.
import { RESTART_CAUSES, restartDelay } from './pool-options.js';
import type { PoolEvent, PoolLogger, PoolStats, ResolvedPoolOptions, RestartCause } from './pool-options.js';
import type { PoolJob } from './pool-job.js';
import { logOutput } from './worker-logs.js';
import { WorkerHandle, type WorkerHandleEvents, type WorkerSpawnSpec } from './worker-handle.js';

export type Handle<Req, Res> = WorkerHandle<PoolJob<Req, Res>, Req, Res>;

/** What the pool hears from its workers: their messages, and each one's exit. */
export type PoolWorkerEvents<Req, Res> = Pick<WorkerHandleEvents<PoolJob<Req, Res>, Req, Res>, 'message' | 'exit'>;

export class PoolWorkers<Req, Res> implements Iterable<Handle<Req, Res>> {
  private readonly log: PoolLogger;
  private readonly spec: WorkerSpawnSpec;
  private readonly handles = new Set<Handle<Req, Res>>();
  private readonly restarts = Object.fromEntries(RESTART_CAUSES.map((c) => [c, 0])) as Record<RestartCause, number>;
  private nextWorkerId = 1;
  /** Unexpected exits since the last completed job; drives the restart backoff. */
  private crashStreak = 0;
  private respawnTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly opts: ResolvedPoolOptions,
    private readonly events: PoolWorkerEvents<Req, Res>,
    private readonly emit: (event: PoolEvent) => void,
  ) {
    this.log = opts.logger;
    this.spec = { modulePath: opts.modulePath, args: opts.args, env: opts.env, execArgv: opts.execArgv };
  }

  [Symbol.iterator](): Iterator<Handle<Req, Res>> {
    return this.handles.values();
  }

  /** Starts the configured number of workers. */
  start(): void {
    for (let i = 0; i < this.opts.workers; i++) this.spawn();
  }

  /** Live workers by state; `queued` is the pool's. */
  stats(queued: number): PoolStats {
    const s: PoolStats = { workers: 0, booting: 0, busy: 0, idle: 0, queued, restarts: { ...this.restarts }, pids: [] };
    for (const h of this.handles) {
      if (h.state !== 'booting' && h.state !== 'idle' && h.state !== 'busy') continue;
      s.workers++;
      s[h.state]++;
      if (h.pid !== undefined) s.pids.push(h.pid);
    }
    return s;
  }

  hasReady(): boolean {
    return [...this.handles].some((h) => h.state === 'idle' || h.state === 'busy');
  }

  /** A worker that has exited leaves the set. */
  remove(h: Handle<Req, Res>): void {
    this.handles.delete(h);
  }

  /** A job completed: the workers are healthy again, restarts go without delay. */
  jobCompleted(): void {
    this.crashStreak = 0;
  }

  /** A worker died without the pool ending it: restarts back off while this goes on. */
  unexpectedExit(): void {
    this.crashStreak++;
  }

  /** Counts the restart and tops the pool up again. */
  replace(h: Handle<Req, Res>, cause: RestartCause): void {
    this.restarts[cause]++;
    this.emit({ type: 'restart', cause, workerId: h.id, pid: h.pid });
    this.ensureWorkers();
  }

  /** The pool is closing: no worker starts any more. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.respawnTimer);
    this.respawnTimer = undefined;
  }

  private spawn(): void {
    const h = new WorkerHandle<PoolJob<Req, Res>, Req, Res>(this.nextWorkerId++, this.spec, {
      message: (handle, msg) => this.events.message(handle, msg),
      output: (handle, stream, line) => logOutput(this.log, handle, stream, line),
      exit: (handle, info) => this.events.exit(handle, info),
      error: (handle, err) => this.log.warn({ workerId: handle.id, pid: handle.pid, err }, 'Worker process error'),
    });
    this.handles.add(h);
    this.log.debug({ workerId: h.id, pid: h.pid }, 'Worker starting');
    h.schedule(this.opts.bootTimeoutMs, () => {
      if (h.state !== 'booting') return;
      h.leaveReason = 'boot-timeout';
      h.kill('SIGKILL');
    });
  }

  private activeCount(): number {
    return this.stats(0).workers;
  }

  /** Tops the pool up to `workers`, after the backoff delay when workers keep dying. */
  private ensureWorkers(): void {
    if (this.stopped || this.respawnTimer) return;
    const delay = restartDelay(this.crashStreak, this.opts.backoffInitialMs, this.opts.backoffMaxMs);
    if (delay === 0) return this.spawnMissing();
    if (this.activeCount() >= this.opts.workers) return;
    this.log.warn({ delayMs: delay, unexpectedExits: this.crashStreak }, 'Workers keep dying; delaying restart');
    this.respawnTimer = setTimeout(() => {
      this.respawnTimer = undefined;
      this.spawnMissing();
    }, delay);
  }

  private spawnMissing(): void {
    for (let n = this.activeCount(); n < this.opts.workers; n++) this.spawn();
  }
}
