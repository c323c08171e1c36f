// One child process of the pool: fork, the IPC channel, captured output, its timers, and a
// single notification of its death. Sends are refused once the process is gone, so nothing is
// ever posted to a dead handle (poolifier#3211). State transitions belong to the pool.
import { fork, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { onLines } from './lines.js';
import type { FromWorker, ToWorker } from './messages.js';
import type { SerializedError } from '../../errors.js';

export type WorkerState = 'booting' | 'idle' | 'busy' | 'retiring' | 'dead';

/** Why the pool itself ended a worker; unset means the death was unexpected. */
export type LeaveReason = 'timeout' | 'abort' | 'recycle-jobs' | 'recycle-rss' | 'close' | 'boot-timeout';

export interface WorkerExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines the worker wrote to stderr. */
  stderrTail: string[];
}

export interface WorkerSpawnSpec {
  modulePath: string;
  args: string[];
  env: NodeJS.ProcessEnv | undefined;
  execArgv: string[];
}

export interface WorkerHandleEvents<J, Req, Res> {
  message(handle: WorkerHandle<J, Req, Res>, message: FromWorker<Res>): void;
  output(handle: WorkerHandle<J, Req, Res>, stream: 'stdout' | 'stderr', line: string): void;
  /** Called once, after 'exit' and (normally) after every message and output line was read. */
  exit(handle: WorkerHandle<J, Req, Res>, info: WorkerExit): void;
  error(handle: WorkerHandle<J, Req, Res>, err: Error): void;
}

const STDERR_TAIL_LINES = 20;
// 'close' follows 'exit' once stdio and the IPC channel are drained (so no late result is lost);
// a grandchild holding stderr open must not delay the pool forever.
const CLOSE_WAIT_MS = 500;

export class WorkerHandle<J, Req = unknown, Res = unknown> {
  state: WorkerState = 'booting';
  job: J | undefined;
  jobsDone = 0;
  leaveReason: LeaveReason | undefined;
  /** What the worker reported when its init() failed. */
  initError: SerializedError | undefined;
  readonly spawnedAt = performance.now();
  readonly pid: number | undefined;
  readonly exited: Promise<WorkerExit>;
  private readonly child: ChildProcess;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly stderrTail: string[] = [];
  private exitStatus: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined;
  private finished = false;
  private resolveExited: (info: WorkerExit) => void = () => {};

  constructor(
    readonly id: number,
    spec: WorkerSpawnSpec,
    private readonly events: WorkerHandleEvents<J, Req, Res>,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
    this.child = fork(spec.modulePath, spec.args, {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: spec.execArgv,
      ...(spec.env ? { env: spec.env } : {}),
    });
    this.pid = this.child.pid;
    this.child.on('message', (message) => this.events.message(this, message as FromWorker<Res>));
    this.readLines(this.child.stdout, 'stdout');
    this.readLines(this.child.stderr, 'stderr');
    this.child.on('error', (err) => {
      // A process that never started emits 'error' and no 'exit'.
      if (this.pid === undefined) this.finish({ exitCode: null, signal: null });
      else this.events.error(this, err);
    });
    this.child.once('exit', (exitCode, signal) => {
      this.exitStatus = { exitCode, signal };
      this.schedule(CLOSE_WAIT_MS, () => this.finish(this.exitStatus));
    });
    this.child.once('close', (exitCode, signal) => this.finish(this.exitStatus ?? { exitCode, signal }));
  }

  /** True while the process runs and its IPC channel is open. */
  get alive(): boolean {
    return !this.finished && this.exitStatus === undefined && this.child.connected;
  }

  /** Posts a message; false (and nothing sent) when the worker is gone. */
  send(message: ToWorker<Req>): boolean {
    if (!this.alive) return false;
    try {
      this.child.send(message, (err) => {
        if (err) this.events.error(this, err);
      });
      return true;
    } catch (err) {
      this.events.error(this, err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.finished || this.exitStatus !== undefined) return;
    this.child.kill(signal);
  }

  /** A timer that lives as long as the process: cleared at death, unref'd (the child keeps the loop alive). */
  schedule(ms: number, fn: () => void): void {
    if (this.finished) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private readLines(stream: Readable | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    stream.on('error', (err) => this.events.error(this, err));
    onLines(stream, (line) => {
      if (name === 'stderr') {
        this.stderrTail.push(line);
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
      }
      this.events.output(this, name, line);
    });
  }

  private finish(status: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined): void {
    if (this.finished) return;
    this.finished = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const info: WorkerExit = {
      exitCode: status?.exitCode ?? null,
      signal: status?.signal ?? null,
      stderrTail: [...this.stderrTail],
    };
    this.events.exit(this, info);
    this.resolveExited(info);
  }
}
