// The worker process. Two ways to run the same code:
//   node worker.js IMAGE MODEL RESULT.json   one embedding, result file, exit 0/1 (the old worker's contract;
//                                            also what per-request isolation spawns)
//   node worker.js --ipc '<WorkerSettings>'  long-lived pool worker running inference/protocol.ts tasks over IPC
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../config/config.js';
import { workerMediaKey } from '../../config/media-key.js';
import { serializeError } from '../../errors.js';
import { setMediaKey } from '../../image/sealed-file.js';
import { serveWorker } from '../pool/serve-worker.js';
import { IPC_FLAG, type AnyTaskOutput, type TaskRequest, type WorkerSettings } from '../protocol.js';
import { toResultFile, type ResultFile } from '../result-file.js';
import { WorkerRuntime } from './runtime.js';

function settingsFromConfig(): WorkerSettings {
  const config = loadConfig();
  setMediaKey(config.media.key === undefined ? undefined : Buffer.from(config.media.key, 'hex'));
  return {
    modelsDir: config.modelsDir,
    ...(config.modelsConfig ? { modelsConfig: config.modelsConfig } : {}),
    preload: [],
    threads: config.pool.threadsPerWorker,
    limits: config.image,
    tightCrops: config.tightCrops,
  };
}

const log = (message: string) => process.stderr.write(`[WORKER] ${message}\n`);

/** The old worker: one image, one result file. Returns the exit code (0 success, 1 handled error). */
export async function runOnce(imagePath: string, model: string, resultPath: string): Promise<number> {
  log('Starting embedding generation');
  let result: ResultFile;
  try {
    const runtime = new WorkerRuntime(settingsFromConfig());
    result = toResultFile(await runtime.embed({ kind: 'embed', imagePath, model, detect: 'auto' }, log));
  } catch (err) {
    const error = serializeError(err);
    log(`Error: ${error.type}: ${error.message}`);
    result = { success: false, error };
  }
  let code = result.success ? 0 : 1;
  try {
    log(`Writing result to ${resultPath}...`);
    await writeFile(resultPath, JSON.stringify(result));
    if (result.success) log('Success! Embedding saved.');
  } catch (err) {
    log(`Error: cannot write result file: ${(err as Error).message}`);
    code = 1;
  }
  log('Worker cleanup complete');
  return code;
}

async function serveIpc(settingsJson: string): Promise<void> {
  const settings = JSON.parse(settingsJson) as WorkerSettings;
  // Encrypted media files are opened here, in memory: the key comes in this process's environment.
  setMediaKey(workerMediaKey());
  const runtime = new WorkerRuntime(settings);
  serveWorker<TaskRequest, AnyTaskOutput>({
    async init() {
      const noop = () => {};
      for (const name of settings.preload) await runtime.load(name, noop);
      return { models: settings.preload };
    },
    handle: (task, ctx) => runtime.run(task, ctx.log),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [first, ...rest] = process.argv.slice(2);
  if (first === IPC_FLAG) {
    await serveIpc(rest[0] ?? '{}');
  } else if (first && rest.length === 2) {
    process.exitCode = await runOnce(first, rest[0]!, rest[1]!);
  } else {
    process.stderr.write('usage: worker.js IMAGE MODEL RESULT.json | worker.js --ipc SETTINGS_JSON\n');
    process.exitCode = 2;
  }
}
