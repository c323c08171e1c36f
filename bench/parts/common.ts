// Shared helpers of the benchmark suite: quantiles, rounding, timing, process memory, the
// machine's load, and a bounded-concurrency loop. No faceembed imports here.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: this file runs from dist/bench/parts/. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.join(REPO, 'bin/faceembed');

export const round = (v: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** Nearest-rank quantile of unsorted values (NaN when empty). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);
export const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** 1-minute load average, the figure that tells whether other work shared the cores. */
export const load1 = (): number => round(os.loadavg()[0] ?? NaN);

/** Resident set size of a process in MiB, from /proc (undefined once it has exited). */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? round(Number(m[1]) / 1024, 1) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process and (unless `ownOnly`) its reaped children used so far, from /proc. */
export function cpuSeconds(pid: number, ownOnly = false): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 of stat (utime, stime, cutime, cstime) are the 12th-15th after the name.
    const ticks = (ownOnly ? [11, 12] : [11, 12, 13, 14]).reduce((s, i) => s + Number(f[i]), 0);
    return ticks / 100;
  } catch {
    return undefined;
  }
}

/** Seconds of CPU the whole machine spent busy (steal included: time the host gave to others), from /proc/stat. */
function machineBusySeconds(): number {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / 100;
}

/** CPU seconds of this process and every live descendant; exited ones are in their parents' cutime. */
function treeCpuSeconds(root = process.pid): number {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited while we looked
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 64; p = parentOf.get(p), hops++)
      if (p === root) return true;
    return false;
  };
  let total = 0;
  for (const pid of parentOf.keys()) if (inTree(pid)) total += cpuSeconds(pid) ?? 0;
  return total;
}

export interface CpuShare {
  /** Cores' worth of CPU that processes outside this benchmark used meanwhile (other users' work, steal). */
  otherCores: number;
  /** Cores' worth this process and its children used. */
  ownCores: number;
}

/** Starts measuring who uses the machine; call the result to stop. */
export function cpuWindow(): () => CpuShare {
  const t0 = performance.now();
  const busy0 = machineBusySeconds();
  const own0 = treeCpuSeconds();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const own = treeCpuSeconds() - own0;
    const busy = machineBusySeconds() - busy0;
    return { otherCores: round(Math.max(0, busy - own) / seconds), ownCores: round(own / seconds) };
  };
}

/**
 * Waits (up to `limitMs`) until other processes use less than `maxOtherCores` over half a
 * second, so a measurement does not start in the middle of someone else's build. Returns
 * the milliseconds waited.
 */
export async function waitQuiet(limitMs: number, maxOtherCores = 0.5): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    const stop = cpuWindow();
    await sleep(500);
    if (stop().otherCores < maxOtherCores) break;
  }
  return Math.round(performance.now() - t0);
}

export { mapLimited } from '../../src/services/each-limited.js';

/** `items` repeated until it has `count` entries. */
export function cycle<T>(items: readonly T[], count: number): T[] {
  if (items.length === 0) return [];
  return Array.from({ length: count }, (_, i) => items[i % items.length]!);
}

/** One target of a benchmark run, judged on its measurement (results.ts and the part sections make them). */
export interface Target {
  /** Stable key: throughput-<model>, http-<model>-<images>, latency-library, latency-http, per-request-<model>, faceapi, memory, cold-start, tight-*. */
  id: string;
  what: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface Latency {
  n: number;
  p50: number;
  p95: number;
  mean: number;
  /** Cores' worth of CPU other processes used while it was measured, when known. */
  otherCores?: number;
}

export function latency(ms: readonly number[], share?: CpuShare): Latency {
  return {
    n: ms.length,
    p50: round(quantile(ms, 0.5)),
    p95: round(quantile(ms, 0.95)),
    mean: round(mean(ms)),
    ...(share ? { otherCores: share.otherCores } : {}),
  };
}

export interface Throughput {
  /** Embeddings returned (one per image: its largest face, or the whole image when none was found). */
  faces: number;
  failed: number;
  seconds: number;
  facesPerSecond: number;
  /** Median of the runs (their faces/s listed in `runs`). */
  runs: number[];
  load: number;
  /** Cores' worth of CPU other processes used during the median run. */
  otherCores: number;
}

/** Set by the suite: how long a measurement may wait for other processes to quieten (0: never). */
export const settle = { limitMs: 0 };

/**
 * Times `runOnce` (which embeds `count` images and returns how many failed) `repeats` times and
 * keeps the median run: one slow run on a shared machine should not decide the figure.
 */
export async function throughput(count: number, repeats: number, runOnce: () => Promise<number>): Promise<Throughput> {
  const runs: { fps: number; seconds: number; failed: number; otherCores: number }[] = [];
  for (let r = 0; r < repeats; r++) {
    if (settle.limitMs > 0) await waitQuiet(settle.limitMs);
    const stop = cpuWindow();
    const t0 = performance.now();
    const failed = await runOnce();
    const seconds = (performance.now() - t0) / 1000;
    runs.push({ fps: (count - failed) / seconds, seconds, failed, otherCores: stop().otherCores });
  }
  const sorted = [...runs].sort((a, b) => a.fps - b.fps);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return {
    faces: count - mid.failed,
    failed: mid.failed,
    seconds: round(mid.seconds, 3),
    facesPerSecond: round(mid.fps, 1),
    runs: runs.map((r) => round(r.fps, 1)),
    load: load1(),
    otherCores: mid.otherCores,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Progress on stderr, so stdout stays clean for anyone piping the summary. */
export function say(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)} load ${load1()}] ${message}\n`);
}
