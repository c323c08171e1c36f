// Paths the tests share: the repository, its bin, sample images, and the optional shared dataset.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Tests run from dist/test/…; the repository is three levels up from this compiled file. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.join(REPO, 'bin/faceembed');
export const SAMPLES = path.join(REPO, 'node_modules/@vladmandic/face-api/demo');
export const sample = (n: number) => path.join(SAMPLES, `sample${n}.jpg`);

/** ../shared/datasets/deepface-unit next to the repository (or FACEEMBED_TEST_DATASET), when present. */
export const DATASET = path.resolve(
  process.env.FACEEMBED_TEST_DATASET ?? path.join(REPO, '../shared/datasets/deepface-unit'),
);
export const DATASET_SKIP = existsSync(DATASET) ? false : `shared dataset not found at ${DATASET}`;
