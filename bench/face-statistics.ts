// Measures how each model spreads real faces (src/search/face-statistics.ts) on the labelled
// photos of the dev dataset, through the product's own pipeline (EmbeddingService: detection,
// alignment, the pool), and stores one JSON per model in src/search/face-stats/, which the
// search benchmark's faces distribution reads (so it needs no dataset at run time).
// Run: npm run build && node dist/bench/face-statistics.js [--data ../shared/datasets/deepface-unit] [--models facenet,arcface]
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/logging/logger.js';
import { faceStatistics } from '../src/search/face-statistics.js';
import { FACE_STATS_DIR, type StoredFaceStatistics } from '../src/search/face-distribution.js';
import { EmbeddingService } from '../src/services/embedding.service.js';
import { IDENTITIES } from './parts/dataset.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/datasets/deepface-unit' },
    models: { type: 'string', default: 'facenet,arcface' },
  },
});
const data = path.resolve(values.data);
const command = `node dist/bench/face-statistics.js --data ${values.data} --models ${values.models}`;
const service = new EmbeddingService({ logger: createLogger('warn'), preload: 'all' });
try {
  await service.ready();
  await mkdir(FACE_STATS_DIR, { recursive: true });
  for (const model of values.models.split(',').filter(Boolean)) {
    const info = service.resolveModel(model);
    const identities: Float32Array[][] = [];
    for (const group of IDENTITIES) {
      const faces: Float32Array[] = [];
      for (const n of group) {
        const photo = path.join(data, `img${n}.jpg`);
        faces.push((await service.generateEmbedding(photo, { modelName: model })).embedding);
      }
      identities.push(faces);
    }
    const stored: StoredFaceStatistics = {
      model: info.name,
      aliases: [...info.aliases],
      dimensions: info.dimensions,
      identitySizes: IDENTITIES.map((g) => g.length),
      source: `${path.basename(data)}: ${IDENTITIES.length} identities, ${IDENTITIES.flat().length} photos (bench/parts/dataset.ts)`,
      command,
      measured: new Date().toISOString().slice(0, 10),
      ...faceStatistics(identities),
    };
    const file = path.join(FACE_STATS_DIR, `${info.name}.json`);
    await writeFile(file, `${JSON.stringify(stored, null, 2)}\n`);
    process.stdout.write(`${file}\n${JSON.stringify(stored)}\n`);
  }
} finally {
  await service.close();
}
