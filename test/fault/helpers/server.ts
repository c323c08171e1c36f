// A real `faceembed serve` child process for fault tests: its own port, database, media root
// and models directory; its JSON log (stderr) recorded and awaitable; readiness polled on /readyz.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { freePort } from '../../../bench/parts/free-port.js';
import { BIN } from '../../helpers/paths.js';
import { childPids, isAlive, waitFor } from '../../helpers/processes.js';

export interface LogLine {
  level: number;
  msg?: string;
  pid?: number;
  [field: string]: unknown;
}

/** VmRSS of a process in MiB, from /proc/<pid>/status. */
export function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Math.round(Number(match[1]) / 1024);
}

export interface ServerOptions {
  databaseUrl: string;
  mediaRoot: string;
  modelsDir: string;
  /** Working directory of the server and its workers (core files, if any, land here). */
  cwd: string;
  /** More FACEEMBED_* settings (workers, timeouts, limits, keys). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/** Servers still running: killed if the test process exits early (a failed hook, a broken pipe). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class ServerProcess {
  readonly logs: LogLine[] = [];
  /** How many log lines carried each message so far (cheap to poll, unlike scanning `logs`). */
  readonly messageCounts = new Map<string, number>();
  readonly stderrText: string[] = [];
  private waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      }),
    );
    createInterface({ input: child.stderr! }).on('line', (line) => this.onLine(line));
    child.stdout!.resume();
  }

  /** Spawns `node bin/faceembed serve` and waits until /readyz answers 200. */
  static async start(opts: ServerOptions): Promise<ServerProcess> {
    return ServerProcess.spawn('serve', opts);
  }

  /** Spawns `node bin/faceembed worker-node` (no HTTP) and waits for its "worker node ready" line. */
  static async startNode(opts: ServerOptions): Promise<ServerProcess> {
    return ServerProcess.spawn('worker-node', opts);
  }

  private static async spawn(command: 'serve' | 'worker-node', opts: ServerOptions): Promise<ServerProcess> {
    const port = await freePort();
    // The caller's own FACEEMBED_* settings must not leak into the server under test.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEEMBED_')));
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      FACEEMBED_HOST: '127.0.0.1',
      FACEEMBED_PORT: String(port),
      FACEEMBED_DATABASE_URL: opts.databaseUrl,
      FACEEMBED_MEDIA_ROOT: opts.mediaRoot,
      FACEEMBED_MODELS_DIR: opts.modelsDir,
      FACEEMBED_LOG_LEVEL: 'info',
      ...opts.env,
    };
    const child = spawn(process.execPath, [BIN, command], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`);
    try {
      if (command === 'serve') await server.waitReady(opts.readyTimeoutMs ?? 60_000);
      else await server.waitForLog((l) => l.msg === 'worker node ready', opts.readyTimeoutMs ?? 60_000);
    } catch (err) {
      await server.kill();
      throw new Error(
        `server did not become ready: ${(err as Error).message}\n${server.stderrText.slice(-20).join('\n')}`,
        { cause: err },
      );
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Worker processes right now (children of the server, as `pgrep -P` shows them). */
  workers(): number[] {
    return [...childPids(this.pid)].sort((a, b) => a - b);
  }

  rssMb(): number {
    return rssMb(this.pid);
  }

  /** Resolves with the first log line (past or future) matching; rejects after timeoutMs. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs = 15_000, from = 0): Promise<LogLine> {
    const past = this.logs.slice(from).find(match);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching server log line within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  /** Polls `check` every 10 ms; fails after timeoutMs, or at once if the server has exited. */
  async waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (!this.alive()) throw new Error('the server exited while the test waited on it');
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Polls /readyz; fails early if the process exits. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error('server process exited');
      try {
        const res = await fetch(`${this.baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
        await res.arrayBuffer();
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`/readyz not 200 within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (graceful), then SIGKILL if it lingers; waits for the exit and for its workers to go. */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const workers = this.workers();
    if (this.alive()) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await waitFor(() => workers.every((p) => !isAlive(p)), 10_000);
    return this.exited;
  }

  /** `kill -9` of the server; its workers notice the closed IPC channel and exit. */
  async kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const workers = this.workers();
    if (this.alive()) this.child.kill('SIGKILL');
    const exit = await this.exited;
    await waitFor(() => workers.every((p) => !isAlive(p)), 10_000);
    return exit;
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private onLine(line: string): void {
    if (this.stderrText.length >= 200) this.stderrText.shift();
    let entry: LogLine;
    try {
      entry = JSON.parse(line) as LogLine;
    } catch {
      this.stderrText.push(line); // not JSON: Node's own crash output, kept for failure messages
      return;
    }
    this.stderrText.push(line);
    this.logs.push(entry);
    if (typeof entry.msg === 'string') this.messageCounts.set(entry.msg, (this.messageCounts.get(entry.msg) ?? 0) + 1);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(entry)) return true;
      w.resolve(entry);
      return false;
    });
  }
}
