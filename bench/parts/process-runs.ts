// Measurements that need a fresh process: memory over many embeddings (memory-child.ts) and the
// cold start of the command line, from process start to the first embedding printed.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BIN, latency, median, round, type Latency } from './common.js';
import type { MemoryChildArgs, MemoryChildResult } from './memory-child.js';
import type { ProfileArgs, ProfileResult } from './profile-child.js';

/** Runs one of the suite's child scripts in a fresh Node process; its last stdout line is the JSON result. */
async function runChild<T>(script: string, args: unknown, nodeFlags: string[] = []): Promise<T> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, [...nodeFlags, file, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${script} exited with code ${code}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as T;
}

/** The library parent over many embeddings (memory-child.ts), with --expose-gc for the after-GC figure. */
export function memoryRun(args: MemoryChildArgs, nodeFlags: string[] = []): Promise<MemoryChildResult> {
  return runChild('./memory-child.js', args, ['--expose-gc', ...nodeFlags]);
}

/** Worker stage times and networks (profile-child.ts). */
export function profileRun(args: ProfileArgs): Promise<ProfileResult> {
  return runChild('./profile-child.js', args);
}

export interface ColdStart {
  command: string;
  /** Spawn to the first JSON line on stdout (the embedding), per run. */
  firstEmbeddingMs: Latency;
  /** Spawn to process exit (workers shut down too). */
  exitMs: number;
  runs: number[];
}

/** `faceembed embed --model M IMAGE` in a fresh process, `runs` times, one after another. */
export async function coldStart(
  model: string,
  image: string,
  runs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ColdStart> {
  const firsts: number[] = [];
  const exits: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, 'embed', '--model', model, image], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env,
    });
    let first: number | undefined;
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (first === undefined && out.includes('\n')) first = performance.now() - t0;
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    exits.push(performance.now() - t0);
    if (code !== 0 || first === undefined || !out.includes('"success":true'))
      throw new Error(`faceembed embed failed (code ${code}): ${out.slice(0, 300)}`);
    firsts.push(first);
  }
  return {
    command: `node bin/faceembed embed --model ${model} CROP.jpg`,
    firstEmbeddingMs: latency(firsts),
    exitMs: round(median(exits)),
    runs: firsts.map((v) => round(v)),
  };
}
