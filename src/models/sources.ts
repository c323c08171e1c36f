// Where each built-in network comes from (an npm package's files) and how it becomes ONNX.
// The version of a prepared model is the package version plus a hash of its weight files, so
// a package upgrade or a changed weight file yields a new file name and a new model version.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FileNotFoundError, ValidationError } from '../errors.js';
import { fetchPackageFiles, type NpmTarball } from './npm-fetch.js';

const require = createRequire(import.meta.url);

export interface PackageFiles {
  package: string;
  version: string;
  dir: string;
}

/** The installed copy of a package (its directory and version), found from its main entry. */
export function findPackage(name: string): PackageFiles {
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === name) return { package: name, version: pkg.version ?? '0.0.0', dir };
    } catch {
      // no package.json at this level: keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot locate the installed package ${name}`);
    dir = parent;
  }
}

export interface ModelSource {
  /** The network's own name; prepared files are named after it. */
  id: string;
  package: string;
  /** Files (relative to the package) whose bytes define the weights: hashed into the version. */
  files: string[];
  /** Bumped when our conversion of this network changes, so prepared files are rebuilt. */
  revision: number;
  /**
   * Detectors only (embedding models carry theirs in the registry): what the package declares,
   * plus any upstream terms on the weights that differ.
   */
  licence?: string;
  /**
   * ONNX files shipped as they are: the sha256 of the one file in `files`, checked when the
   * version is resolved (prepare, listing, worker start) and on the prepared copy, so an altered
   * file is refused by name instead of loaded.
   */
  sha256?: string;
  /** The prepared file's sha256 when the build edits the shipped file (checked instead of `sha256` on the prepared copy). */
  preparedSha256?: string;
  /**
   * Set when the package is not installed (its dependency tree is not wanted): `models prepare`
   * fetches its tarball and unpacks `files` only (npm-fetch.ts). Needs `sha256`, which then also
   * gives the version without the files at hand.
   */
  tarball?: NpmTarball;
  /** Builds the ONNX bytes from the package's files. Imported lazily: conversion code is not needed once prepared. */
  build(pkgDir: string): Promise<Uint8Array>;
}

/** Builds a network shipped as a TFJS graph model with our converter, keeping only `outputs` when given. */
function tfjsGraph(modelJson: string, outputs?: string[]): ModelSource['build'] {
  return async (dir) => {
    const { loadTfjsGraphModel, convertTfjsGraph } = await import('./convert/tfjs-graph-to-onnx.js');
    return convertTfjsGraph(await loadTfjsGraphModel(path.join(dir, modelJson)), outputs ? { outputs } : {}).onnx;
  };
}

export const SOURCES: Readonly<Record<string, ModelSource>> = Object.freeze({
  'hse-faceres': {
    id: 'hse-faceres',
    revision: 1,
    package: '@vladmandic/human',
    files: ['models/faceres.json', 'models/faceres.bin'],
    // Only the 1024-D descriptor: the age and gender heads are dropped from the graph.
    build: tfjsGraph('models/faceres.json', ['global_pooling/Mean']),
  },
  'faceapi-resnet128': {
    id: 'faceapi-resnet128',
    revision: 1,
    package: '@vladmandic/face-api',
    files: ['model/face_recognition_model-weights_manifest.json', 'model/face_recognition_model.bin'],
    async build(dir) {
      const { buildFaceapiRecognitionOnnx } = await import('./convert/faceapi-recognition.js');
      return buildFaceapiRecognitionOnnx(path.join(dir, 'model'));
    },
  },
  // Already ONNX, copied as shipped. The graph (read with onnx-proto) is a MobileFaceNet: a 3x3
  // stem, 17 depthwise 3x3 convolutions with PReLU and residual adds, a 7x7 depthwise "GDC" and a
  // 1x1 convolution to 512 values; hence the name. The package does not say how it was trained.
  // Its graph declares a batch of 1; the prepared copy gets a batch axis (onnx/batch-axis.ts),
  // proved equal to the shipped graph by test/models/mobilefacenet512.test.ts.
  'faceplugin-mobilefacenet512': {
    id: 'faceplugin-mobilefacenet512',
    revision: 2,
    package: 'faceplugin-face-recognition-js',
    tarball: {
      package: 'faceplugin-face-recognition-js',
      version: '0.0.1',
      integrity: 'sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw==',
    },
    files: ['model/fr_feature.onnx'],
    sha256: '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581',
    preparedSha256: 'e9beef4d98460fdf2fdeb65d091bf54f836ffb86a7a2c8425a4365924fd1b555',
    async build(dir) {
      const { withBatchAxis } = await import('./onnx/batch-axis.js');
      return withBatchAxis(await readFile(path.join(dir, 'model/fr_feature.onnx')));
    },
  },
  blazeface: {
    id: 'blazeface',
    revision: 1,
    package: '@vladmandic/human',
    licence: 'MIT (the npm package @vladmandic/human); the network is Google MediaPipe BlazeFace',
    files: ['models/blazeface.json', 'models/blazeface.bin'],
    build: tfjsGraph('models/blazeface.json'),
  },
  facemesh: {
    id: 'facemesh',
    revision: 2,
    package: '@vladmandic/human',
    licence: 'MIT (the npm package @vladmandic/human); the network is Google MediaPipe FaceMesh',
    files: ['models/facemesh.json', 'models/facemesh.bin'],
    build: tfjsGraph('models/facemesh.json'),
  },
  // Whole-photo detector: already ONNX, copied as shipped.
  'retinaface-mnet025': {
    id: 'retinaface-mnet025',
    revision: 1,
    package: 'retinaface',
    licence:
      'MIT (the npm package retinaface, which ships the ONNX file); the weights are insightface RetinaFace ' +
      'MobileNet-0.25, and insightface releases its pretrained models for non-commercial research only: check before commercial use',
    tarball: {
      package: 'retinaface',
      version: '0.0.6',
      integrity: 'sha512-MJ0EjJdwzeSjbkZmyG9LSC10mq1QyfT2Rmr066Pexd43N/VGkR913zfaaNZRJrWvU2hpC3p/BS157z9bk8QmAQ==',
    },
    files: ['mnet.25_v2.onnx'],
    sha256: 'cd1acf4887eff165497762346fcafbdec58f662a2ceb01e5edb979f54b9875b6',
    build: (dir) => readFile(path.join(dir, 'mnet.25_v2.onnx')),
  },
});

export interface ResolvedSource {
  source: ModelSource;
  /** `<package version>-<first 12 hex of sha256 over the weight files>` */
  version: string;
  fileName: string;
  /** The package's files: the installed copy, or (`tarball`) the listed files fetched under `fetchDir`. */
  packageDir(fetchDir: string): Promise<string>;
}

export async function hashFiles(files: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const f of files) hash.update(await readFile(f));
  return hash.digest('hex').slice(0, 12);
}

/**
 * Refuses a file whose bytes are not the ones the source names (ValidationError; FileNotFoundError
 * when absent): the shipped file, or with `prepared` the prepared copy (`preparedSha256` when the
 * build edits it).
 */
export async function verifyChecksum(source: ModelSource, file: string, prepared = false): Promise<void> {
  const expected = prepared ? (source.preparedSha256 ?? source.sha256) : source.sha256;
  if (!expected) return;
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new FileNotFoundError(
      `Model file not found: ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}); expected sha256 ${expected}`,
      { file, expectedSha256: expected },
    );
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== expected)
    throw new ValidationError(
      `Model file ${file} (${source.id}) has sha256 ${actual}, expected ${expected}: ` +
        'the file was altered or replaced; delete the prepared copy and run `faceembed models prepare`',
      { file, expectedSha256: expected, actualSha256: actual },
    );
}

export async function resolveSource(id: string): Promise<ResolvedSource> {
  const source = SOURCES[id];
  if (!source) throw new Error(`No built-in model source "${id}"`);
  const named = (version: string) => ({ source, version, fileName: `${id}-${version}-r${source.revision}.onnx` });
  const { tarball, sha256 } = source;
  if (tarball) {
    if (!sha256) throw new Error(`Model source "${id}" is fetched, so it must pin its sha256`);
    return {
      ...named(`${tarball.version}-${sha256.slice(0, 12)}`),
      async packageDir(fetchDir) {
        const dir = await fetchPackageFiles(tarball, source.files, fetchDir);
        for (const f of source.files) await verifyChecksum(source, path.join(dir, f));
        return dir;
      },
    };
  }
  const pkg = findPackage(source.package);
  const files = source.files.map((f) => path.join(pkg.dir, f));
  for (const f of files) await verifyChecksum(source, f);
  return { ...named(`${pkg.version}-${await hashFiles(files)}`), packageDir: () => Promise.resolve(pkg.dir) };
}
