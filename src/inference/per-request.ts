// The old design, kept for parity and measurement: one fresh process per embedding, talking
// through a temp result file that is created, logged, read and always removed.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { msSince } from '../domain/time.js';
import { TimeoutError, WorkerCrashedError, InternalError } from '../errors.js';
import { onLines } from './pool/lines.js';
import type { EmbedOutput } from './protocol.js';
import { fromResultFile, type ResultFile } from './result-file.js';

export interface PerRequestOptions {
  workerModule: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  logger: Logger;
}

export async function embedInFreshProcess(
  imagePath: string,
  model: string,
  opts: PerRequestOptions,
): Promise<EmbedOutput> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-'));
  const resultPath = path.join(dir, 'result.json');
  const log = opts.logger;
  log.debug({ resultPath }, `Result file: ${resultPath}`);
  const started = performance.now();
  try {
    const child = spawn(process.execPath, [opts.workerModule, imagePath, model, resultPath], {
      env: opts.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // The child's [WORKER] steps: debug, like the pool workers' step lines.
    onLines(child.stderr, (line) => {
      if (line) log.debug({ pid: child.pid }, line);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, s) => resolve([c, s]));
    }).finally(() => clearTimeout(timer));
    const durationMs = msSince(started);
    log.debug(
      { code, signal, durationMs },
      `Subprocess completed in ${(durationMs / 1000).toFixed(2)}s with code ${code ?? signal}`,
    );
    if (timedOut)
      throw new TimeoutError(`Embedding took longer than ${opts.timeoutMs} ms; worker killed`, {
        timeoutMs: opts.timeoutMs,
        pid: child.pid,
      });
    if (signal || (code !== 0 && code !== 1)) {
      throw new WorkerCrashedError(`Worker died (${signal ?? `exit code ${code}`})`, {
        signal,
        exitCode: code,
        pid: child.pid,
      });
    }
    const text = await readFile(resultPath, 'utf8').catch(() => {
      throw new InternalError(`Worker exited with code ${code} without writing ${resultPath}`);
    });
    log.debug(`Reading result file (${Buffer.byteLength(text)} bytes)`);
    return fromResultFile(JSON.parse(text) as ResultFile);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
