// Model preparation: converts the npm-shipped networks to ONNX files in the models directory.
// Re-running is a no-op (the file name carries the version); concurrent preparers never expose
// a partial file because each writes a private temp file and renames it into place.
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileNotFoundError } from '../errors.js';
import type { ModelRegistry, ModelSpec } from './registry.js';
import { SOURCES, hashFiles, resolveSource, verifyChecksum } from './sources.js';

export interface PreparedFile {
  id: string;
  path: string;
  version: string;
  /** True when this call wrote the file; false when it was already there. */
  created: boolean;
  ms: number;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

export async function prepareSource(id: string, modelsDir: string): Promise<PreparedFile> {
  const started = performance.now();
  const { source, version, fileName, packageDir } = await resolveSource(id);
  const target = path.join(modelsDir, fileName);
  if (await exists(target)) {
    // The prepared copy of a shipped-as-is file is checked too: a worker must not load altered weights.
    await verifyChecksum(source, target, true);
    return { id, path: target, version, created: false, ms: performance.now() - started };
  }
  await mkdir(modelsDir, { recursive: true });
  // Private to this call, like the temp file below: concurrent preparers never share a half-unpacked package.
  const fetchDir = await mkdtemp(path.join(modelsDir, '.package-'));
  let bytes: Uint8Array;
  try {
    bytes = await source.build(await packageDir(fetchDir));
  } finally {
    await rm(fetchDir, { recursive: true, force: true });
  }
  const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, bytes, { flush: true });
    await verifyChecksum(source, temp, true);
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
  return { id, path: target, version, created: true, ms: performance.now() - started };
}

/** Every built-in network (embedding models and detectors). */
export async function prepareAll(modelsDir: string, onEach?: (file: PreparedFile) => void): Promise<PreparedFile[]> {
  const out: PreparedFile[] = [];
  for (const id of Object.keys(SOURCES)) {
    const file = await prepareSource(id, modelsDir);
    onEach?.(file);
    out.push(file);
  }
  return out;
}

/** An embedding model's version: its weights' version, and its pipeline revision when past the first. */
export const specVersion = (spec: Pick<ModelSpec, 'pipelineRevision'>, weights: string): string =>
  (spec.pipelineRevision ?? 1) > 1 ? `${weights}-p${spec.pipelineRevision}` : weights;

/** The ONNX file and version of an embedding model, preparing a built-in on first use. */
export async function modelFile(spec: ModelSpec, modelsDir: string): Promise<{ path: string; version: string }> {
  if (spec.origin.kind === 'builtin') {
    const file = await prepareSource(spec.origin.sourceId, modelsDir);
    return { path: file.path, version: specVersion(spec, file.version) };
  }
  const file = spec.origin.path;
  if (!(await exists(file))) throw new FileNotFoundError(`Model file not found for "${spec.name}": ${file}`);
  return { path: file, version: specVersion(spec, await hashFiles([file])) };
}

/** Versions of every registered model, for listings (prepares nothing). */
export async function modelVersions(registry: ModelRegistry): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const spec of registry.specs) {
    if (spec.origin.kind === 'builtin')
      out.set(spec.name, specVersion(spec, (await resolveSource(spec.origin.sourceId)).version));
    else
      out.set(
        spec.name,
        await hashFiles([spec.origin.path]).then(
          (v) => specVersion(spec, v),
          () => 'missing',
        ),
      );
  }
  return out;
}
