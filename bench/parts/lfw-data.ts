// The lfw-dev folder (its README): pairs.csv (folds 0-4 of LFW View 2) and img/<Name>/<Name>_NNNN.jpg,
// every photo of the people in those folds. Photos are named by their path under img/.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface LfwPair {
  x: string;
  y: string;
  same: boolean;
  fold: number;
}

export interface Lfw {
  dir: string;
  pairs: LfwPair[];
  /** Every photo, sorted: "Name/Name_0001.jpg". */
  photos: string[];
  /** Index of each photo's person in `people`. */
  person: Int32Array;
  people: string[];
  /** Photo indices of each person, in photo order. */
  photosOf: number[][];
}

export async function loadLfw(dir: string): Promise<Lfw> {
  const pairsFile = path.join(dir, 'pairs.csv');
  if (!existsSync(pairsFile) || !existsSync(path.join(dir, 'img')))
    throw new Error(`${dir} has no pairs.csv and img/: --lfw must name the lfw-dev folder`);
  const [header, ...lines] = (await readFile(pairsFile, 'utf8')).split(/\r?\n/).filter((l) => l.trim());
  const cols = header!.split(',').map((c) => c.trim());
  const at = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`${pairsFile} has no column ${name}`);
    return i;
  };
  const [cx, cy, cd, cf] = [at('file_x'), at('file_y'), at('Decision'), at('fold')];
  const pairs = lines.map((line) => {
    const c = line.split(',').map((v) => v.trim());
    return { x: c[cx]!, y: c[cy]!, same: c[cd] === 'Yes', fold: Number(c[cf]) };
  });
  const people = (await readdir(path.join(dir, 'img'))).sort();
  const photos: string[] = [];
  const personOf: number[] = [];
  const photosOf: number[][] = [];
  for (const [p, name] of people.entries()) {
    const files = (await readdir(path.join(dir, 'img', name))).filter((f) => f.endsWith('.jpg')).sort();
    photosOf.push(files.map((_, k) => photos.length + k));
    for (const f of files) {
      photos.push(`${name}/${f}`);
      personOf.push(p);
    }
  }
  const known = new Set(photos);
  const missing = pairs.flatMap((p) => [p.x, p.y]).filter((f) => !known.has(f));
  if (missing.length)
    throw new Error(`${missing.length} photos of pairs.csv are not under img/ (first: ${missing[0]})`);
  return { dir, pairs, photos, person: Int32Array.from(personOf), people, photosOf };
}

export const photoPath = (lfw: Lfw, photo: string): string => path.join(lfw.dir, 'img', photo);
