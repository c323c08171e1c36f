// dlib itself, as the reference for the facenet chip: bench/dlib-chip/chip.cpp compiled against
// the system's libdlib (Debian libdlib-dev) and driven line by line over stdin. Images reach it
// as raw RGB files decoded by sharp, so dlib and our code read the very same pixels.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Point } from '../../src/domain/face.js';
import type { RgbPixels } from '../../src/detect/resample.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const REFERENCE_SOURCE = path.join(REPO, 'bench/dlib-chip/chip.cpp');
export const SHAPE_PREDICTOR = '/usr/share/dlib/shape_predictor_68_face_landmarks.dat';
const DLIB_HEADER = '/usr/include/dlib/image_transforms/interpolation.h';

/** Why the reference cannot run here (no compiler, no libdlib-dev, no shape predictor), or undefined. */
export async function referenceMissing(): Promise<string | undefined> {
  if (!existsSync(DLIB_HEADER)) return `dlib headers not found (${DLIB_HEADER}): apt-get install libdlib-dev`;
  if (!existsSync(SHAPE_PREDICTOR))
    return `dlib's shape predictor not found (${SHAPE_PREDICTOR}): apt-get install libdlib-data`;
  try {
    await run('g++', ['--version']);
  } catch {
    return 'g++ not found: apt-get install g++';
  }
  return undefined;
}

/**
 * Compiles chip.cpp once per source version into the temp folder (~50 s; dlib is header-heavy).
 * BLAS and LAPACK are named by their runtime files: Debian's dlib-1.pc names .so links that only
 * the -dev packages install.
 */
export async function compileReference(): Promise<string> {
  const source = await readFile(REFERENCE_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), 'faceembed-dlib-chip');
  const binary = path.join(dir, `chip-${hash}`);
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  const temp = `${binary}.${process.pid}.tmp`;
  const libs = ['-ldlib', '-lpthread', '-l:libblas.so.3', '-l:liblapack.so.3'];
  await run('g++', ['-O2', '-std=c++17', REFERENCE_SOURCE, '-o', temp, ...libs], { maxBuffer: 16 << 20 });
  await rename(temp, binary);
  return binary;
}

/** What dlib reports for a chip: its rectangle (inclusive edges) and angle, from get_face_chip_details. */
export interface ReferenceChip {
  pixels: Uint8Array;
  rect: [number, number, number, number];
  angle: number;
}

/** One running reference process; requests are answered in order. */
export class DlibReference {
  private readonly waiting: ((line: string) => void)[] = [];
  private counter = 0;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly dir: string,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  static async start(): Promise<DlibReference> {
    const binary = await compileReference();
    const dir = path.join(os.tmpdir(), `faceembed-dlib-io-${process.pid}`);
    await mkdir(dir, { recursive: true });
    const child = spawn(binary, [SHAPE_PREDICTOR], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new DlibReference(child, dir);
  }

  private ask(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null) return reject(new Error(`dlib reference exited (${this.child.exitCode})`));
      this.waiting.push(resolve);
      this.child.stdin.write(`${line}\n`);
    });
  }

  /** Writes `image` as a raw RGB file the process can read. */
  async upload(image: RgbPixels): Promise<string> {
    const file = path.join(this.dir, `image-${this.counter++}.rgb`);
    await writeFile(file, image.data.subarray(0, image.width * image.height * 3));
    return `${file} ${image.width} ${image.height}`;
  }

  /** dlib's 68 landmarks of the HOG face nearest the image centre (else of `box`, [x, y, w, h]); undefined when none. */
  async landmarks(raw: string, box?: readonly number[]): Promise<Point[] | undefined> {
    const hint = box ? ` ${box.map((v, i) => Math.round(i < 2 ? v : v + box[i - 2]! - 1)).join(' ')}` : '';
    const answer = await this.ask(`landmarks ${raw}${hint}`);
    if (answer === 'none') return undefined;
    const values = this.ok(answer).map(Number);
    return Array.from({ length: values.length / 2 }, (_, i) => [values[2 * i]!, values[2 * i + 1]!] as Point);
  }

  /** get_face_chip_details(68 landmarks, size, padding) + extract_image_chip. */
  chip68(raw: string, points: readonly Point[], size: number, padding: number): Promise<ReferenceChip> {
    return this.chip(`chip68 ${raw} {out} ${size} ${padding} ${points.flat().join(' ')}`, size);
  }

  /** chip_details(chipPoints, imagePoints, size x size) + extract_image_chip. */
  chipFit(
    raw: string,
    chipPoints: readonly Point[],
    imagePoints: readonly Point[],
    size: number,
  ): Promise<ReferenceChip> {
    const list = (ps: readonly Point[]) => ps.map((p) => p.map((v) => v.toPrecision(17)).join(' ')).join(' ');
    return this.chip(
      `chipfit ${raw} {out} ${size} ${chipPoints.length} ${list(chipPoints)} ${list(imagePoints)}`,
      size,
    );
  }

  private async chip(command: string, size: number): Promise<ReferenceChip> {
    const out = path.join(this.dir, `chip-${this.counter++}.rgb`);
    const [l, t, r, b, angle] = this.ok(await this.ask(command.replace('{out}', out))).map(Number);
    const pixels = new Uint8Array(await readFile(out));
    if (pixels.length !== size * size * 3) throw new Error(`dlib wrote ${pixels.length} bytes for a ${size} chip`);
    return { pixels, rect: [l!, t!, r!, b!], angle: angle! };
  }

  private ok(answer: string): string[] {
    if (!answer.startsWith('ok ')) throw new Error(`dlib reference: ${answer}`);
    return answer.slice(3).split(' ');
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.stdin.end();
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Our five points from dlib's 68: eye centres (means of 36-41, 42-47), nose tip 30, mouth corners 48 and 54. */
export function fivePointsOf68(points: readonly Point[]): Point[] {
  const mean = (from: number): Point => {
    const ps = points.slice(from, from + 6);
    return [ps.reduce((s, p) => s + p[0], 0) / 6, ps.reduce((s, p) => s + p[1], 0) / 6];
  };
  return [mean(36), mean(42), points[30]!, points[48]!, points[54]!];
}

/** Largest and mean absolute difference of two equal-length byte arrays. */
export function pixelDifference(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  if (a.length !== b.length) throw new Error(`Cannot compare ${a.length} with ${b.length} bytes`);
  let max = 0,
    sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { max, mean: sum / a.length };
}
