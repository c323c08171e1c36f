// A real `faceembed worker-node` child process for the benchmarks: same environment as the
// server it serves (database, media root, queue), its log in a file; ready once it logs so.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, REPO, sleep } from './common.js';
import { stopper, type ServerHandle, type ServerOptions } from './http.js';

export async function startWorkerNode(opts: ServerOptions): Promise<ServerHandle> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEEMBED_')));
  const logFile = path.join(opts.workDir, `node-${Date.now()}-${Math.random().toString(36).slice(2, 6)}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [BIN, 'worker-node'], {
    cwd: opts.workDir,
    stdio: ['ignore', fd, fd],
    env: {
      ...inherited,
      FACEEMBED_MEDIA_ROOT: opts.mediaRoot,
      FACEEMBED_MODELS_DIR: opts.modelsDir ?? path.join(REPO, 'data/models'),
      FACEEMBED_LOG_LEVEL: 'info',
      ...opts.env,
    },
  });
  closeSync(fd);
  const stop = stopper(child);
  const deadline = Date.now() + 120_000;
  while (!readFileSync(logFile, 'utf8').includes('"worker node ready"')) {
    if (child.exitCode !== null)
      throw new Error(`faceembed worker-node exited with code ${child.exitCode}; see ${logFile}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`faceembed worker-node not ready within 120 s; see ${logFile}`);
    }
    await sleep(100);
  }
  return { baseUrl: '', pid: child.pid!, logFile, stop };
}
