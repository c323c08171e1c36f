// The old design, kept for parity and measurement: one fresh process per embedding, talking
// through a temp result file that is created, logged, read and always removed.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { TimeoutError, WorkerCrashedError, InternalError, deserializeError } from '../errors.js';
import type { EmbedOutput, ResultFile } from './protocol.js';

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
  log.info({ resultPath }, `Result file: ${resultPath}`);
  const started = performance.now();
  try {
    const child = spawn(process.execPath, [opts.workerModule, imagePath, model, resultPath], {
      env: opts.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      let nl;
      while ((nl = stderr.indexOf('\n')) >= 0) {
        const line = stderr.slice(0, nl);
        stderr = stderr.slice(nl + 1);
        if (line) log.info({ pid: child.pid }, line);
      }
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
    const seconds = (performance.now() - started) / 1000;
    log.info(
      { code, signal, durationMs: Math.round(seconds * 1000) },
      `Subprocess completed in ${seconds.toFixed(2)}s with code ${code ?? signal}`,
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
    log.info(`Reading result file (${Buffer.byteLength(text)} bytes)`);
    const result = JSON.parse(text) as ResultFile;
    if (!result.success) throw deserializeError(result.error);
    return {
      kind: 'embed',
      embedding: Float32Array.from(result.embedding),
      model: result.model,
      modelVersion: result.model_version,
      dimensions: result.dimensions,
      face: result.face,
      durationMs: result.duration_ms,
      timings: {},
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
