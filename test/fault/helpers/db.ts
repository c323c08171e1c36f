// What the fault tests check in the database behind a server: row counts, and that every stored
// embedding is whole (right dimensions, 4 bytes per value, finite, unit length, one per crop and model).
import { sql } from 'kysely';
import type { Database } from '../../../src/repositories/database.js';

export interface Integrity {
  rows: number;
  /** Crops that have an embedding of the model. */
  crops: Set<number>;
  /** Empty when every row is whole. */
  problems: string[];
}

export async function countRows(db: Database, table: 'face_crops' | 'face_embeddings'): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
  return Number(r.rows[0]!.n);
}

export async function checkEmbeddings(
  db: Database,
  expect: { modelName: string; modelVersion: string; dimensions: number },
): Promise<Integrity> {
  const rows = await db
    .selectFrom('face_embeddings')
    .select(['face_crop_id', 'model_name', 'model_version', 'dimensions', 'embedding'])
    .orderBy('face_crop_id')
    .execute();
  const cropIds = new Set((await db.selectFrom('face_crops').select('id').execute()).map((r) => Number(r.id)));
  const problems: string[] = [];
  const seen = new Set<string>();
  const crops = new Set<number>();
  for (const r of rows) {
    const id = r.face_crop_id;
    const key = `${id}/${r.model_name}`;
    if (seen.has(key)) problems.push(`duplicate row for crop ${id}, model ${r.model_name}`);
    seen.add(key);
    if (!cropIds.has(id)) problems.push(`embedding of missing crop ${id}`);
    if (r.model_name !== expect.modelName || r.model_version !== expect.modelVersion) {
      problems.push(`crop ${id}: model ${r.model_name} ${r.model_version}`);
    }
    if (r.dimensions !== expect.dimensions) problems.push(`crop ${id}: ${r.dimensions} dimensions`);
    const bytes = Buffer.from(r.embedding);
    if (bytes.length !== 4 * r.dimensions) {
      problems.push(`crop ${id}: ${bytes.length} bytes for ${r.dimensions} dimensions`);
      continue;
    }
    let norm = 0;
    for (let i = 0; i < r.dimensions; i++) {
      const v = bytes.readFloatLE(i * 4);
      if (!Number.isFinite(v)) problems.push(`crop ${id}: value ${i} is ${v}`);
      norm += v * v;
    }
    if (Math.abs(Math.sqrt(norm) - 1) > 1e-3) problems.push(`crop ${id}: L2 norm ${Math.sqrt(norm)}`);
    crops.add(id);
  }
  return { rows: rows.length, crops, problems };
}
