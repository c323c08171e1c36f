// Who is in the benchmark's classes: the people of a folder of labelled photos (lfw-dev's
// img/<Name>/*.jpg, or deepface-unit's same-person groups), put in a seeded order; and each
// photo's labelled face, found by the detector (LFW centres its person: the face nearest the
// centre; a portrait: the largest face), with the other faces in it kept as background.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Box } from './class-scene.js';
import { shuffle } from './class-scene.js';
import type { RoomSource } from './room-scene.js';

export interface PersonPhotos {
  identity: string;
  /** Photo files, in the order they are tried (enrolment first). */
  photos: string[];
}

/** lfw-dev's people (img/<Name>/*.jpg), each with their photos in name order. */
export async function listLfwPeople(dir: string): Promise<PersonPhotos[]> {
  const root = path.join(dir, 'img');
  const names = (await readdir(root)).sort();
  return Promise.all(
    names.map(async (name) => ({
      identity: name,
      photos: (await readdir(path.join(root, name)))
        .filter((f) => /\.jpe?g$/i.test(f))
        .sort()
        .map((f) => path.join(root, name, f)),
    })),
  );
}

/**
 * The people in a seeded order, and who can be a member: members need two photos or more (one
 * enrolled, the others in class); anyone can be a stranger. Each person's photos are shuffled
 * and capped at `maxPhotos` (a few hundred photos of one politician would add nothing).
 * Members and strangers never overlap: strangers are drawn from the back of the order.
 */
export function orderPeople(
  people: readonly PersonPhotos[],
  rand: () => number,
  maxPhotos: number,
): { members: PersonPhotos[]; strangers: PersonPhotos[] } {
  const order = shuffle(people, rand).map((p) => ({
    identity: p.identity,
    photos: shuffle(p.photos, rand).slice(0, maxPhotos),
  }));
  const members = order.filter((p) => p.photos.length >= 2);
  const strangers = [...order].reverse();
  return { members, strangers };
}

export interface DetectedFace {
  box: Box;
}

/**
 * The labelled face of a photo and the others: `centre` takes the face whose centre is nearest
 * the photo's (none when it is farther than `maxOffset` of the photo's width: the person the
 * label names was not found); `largest` takes the largest face.
 */
export function labelledFace(
  faces: readonly DetectedFace[],
  size: { width: number; height: number },
  rule: 'centre' | 'largest',
  maxOffset = 0.16,
): { face: Box; others: Box[] } | undefined {
  if (faces.length === 0) return undefined;
  const offset = (b: Box) => Math.hypot(b[0] + b[2] / 2 - size.width / 2, b[1] + b[3] / 2 - size.height / 2);
  const key = rule === 'centre' ? (b: Box) => offset(b) : (b: Box) => -b[2] * b[3];
  const ranked = [...faces].sort((a, b) => key(a.box) - key(b.box));
  const face = ranked[0]!.box;
  if (rule === 'centre' && offset(face) > maxOffset * size.width) return undefined;
  return { face, others: ranked.slice(1).map((f) => f.box) };
}

/** A photo as a room tile can use it, or undefined when its labelled face is not found. */
export async function roomSource(
  file: string,
  identity: string,
  detect: (file: string) => Promise<readonly DetectedFace[]>,
  rule: 'centre' | 'largest',
): Promise<RoomSource | undefined> {
  const meta = await sharp(file).rotate().metadata();
  const size = { width: meta.autoOrient.width, height: meta.autoOrient.height };
  const found = labelledFace(await detect(file), size, rule);
  return found ? { file, identity, ...found, ...size } : undefined;
}
