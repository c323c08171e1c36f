// The one check that no comparison mixes model versions: a stored embedding made by other
// weights than the model's current ones measures nothing against a fresh one, so sessions and
// identification refuse (ConflictError, 409) and say how to re-embed, instead of a wrong answer.
import { ConflictError } from '../errors.js';
import type { ModelInfo } from './embedding.types.js';

/** Stored embeddings found for a comparison: their version and how many (or which crops). */
export interface FoundVersion {
  version: string;
  count: number;
  faceCropIds?: readonly number[];
}

/** How a deployment brings stored embeddings to the current weights (docs/api.md "Re-embedding"). */
export const reembedHint = (model: Pick<ModelInfo, 'name'>): string =>
  `re-embed them: \`faceembed reembed --model ${model.name} --job\` or POST /api/attendance/jobs/ ` +
  `{"kind": "generate-embeddings", "all": true, "model_name": "${model.name}"} (force_regenerate false: only missing and stale ones)`;

/** Throws ConflictError when any found embedding is of another version than the model's current one. */
export function requireModelVersion(model: Pick<ModelInfo, 'name' | 'version'>, found: Iterable<FoundVersion>): void {
  const stale = [...found].filter((f) => f.count > 0 && f.version !== model.version);
  if (stale.length === 0) return;
  const count = stale.reduce((n, f) => n + f.count, 0);
  const ids = stale.flatMap((f) => f.faceCropIds ?? []).slice(0, 20);
  throw new ConflictError(
    `${count} stored ${model.name} embedding(s) were made by model version ${stale.map((f) => f.version).join(', ')}, ` +
      `not the current ${model.version}: they cannot be compared with new ones; ${reembedHint(model)}`,
    {
      model: model.name,
      model_version: model.version,
      stale_versions: stale.map((f) => f.version),
      stale_count: count,
      ...(ids.length ? { face_crop_ids: ids } : {}),
    },
  );
}

/** Rows carrying their embedding's version, grouped for requireModelVersion (rows without an embedding skipped). */
export function versionsOf(rows: readonly { faceCropId: number; modelVersion: string | null }[]): FoundVersion[] {
  const by = new Map<string, number[]>();
  for (const r of rows)
    if (r.modelVersion !== null) by.set(r.modelVersion, [...(by.get(r.modelVersion) ?? []), r.faceCropId]);
  return [...by].map(([version, ids]) => ({ version, count: ids.length, faceCropIds: ids }));
}
