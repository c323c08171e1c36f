// Identify one face over HTTP with a 10k-face gallery (issue 13's latency target): a SQLite
// database seeded with 10,000 enrolled persons (one enrolment face each: the real embedding of
// one dataset photo for the probe's person, synthetic unit vectors for the others; search cost
// does not depend on the values), then a real `faceembed serve` on it, warm, and multipart
// identify requests of a 160 px crop of another photo of that person, one at a time.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createLogger } from '../src/logging/logger.js';
import { openDatabase } from '../src/repositories/database.js';
import { EmbeddingRepository } from '../src/repositories/embedding.repository.js';
import { FaceCropRepository } from '../src/repositories/face-crop.repository.js';
import { migrate } from '../src/repositories/migrate.js';
import { PersonRepository } from '../src/repositories/person.repository.js';
import { EmbeddingService } from '../src/services/embedding.service.js';
import { quantile, round } from './parts/common.js';
import { startServer } from './parts/http.js';

export interface HttpIdentifyResult {
  enrolled: number;
  requests: number;
  p50_ms: number;
  p99_ms: number;
  right_person: number;
}

function unitVector(dims: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const v = new Float32Array(dims);
  let n = 0;
  for (let i = 0; i < dims; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    v[i] = s / 4294967296 - 0.5;
    n += v[i]! * v[i]!;
  }
  return v.map((x) => x / Math.sqrt(n));
}

export async function benchHttpIdentify(opts: {
  enrolPhoto: string;
  probePhoto: string;
  enrolled?: number;
  requests?: number;
}): Promise<HttpIdentifyResult> {
  const enrolled = opts.enrolled ?? 10_000;
  const requests = opts.requests ?? 100;
  const work = await mkdtemp(path.join(tmpdir(), 'faceembed-identify-http-'));
  try {
    const service = new EmbeddingService({ logger: createLogger('warn'), preload: ['facenet'], workers: 1 });
    let model, real;
    try {
      await service.ready();
      model = service.resolveModel('facenet');
      real = (await service.generateEmbedding(opts.enrolPhoto, { modelName: 'facenet' })).embedding;
    } finally {
      await service.close();
    }

    const dbFile = path.join(work, 'gallery.db');
    const db = openDatabase(`sqlite:${dbFile}`);
    await migrate(db);
    let target = 0;
    await db.transaction().execute(async (trx) => {
      const [p, c, e] = [new PersonRepository(trx), new FaceCropRepository(trx), new EmbeddingRepository(trx)];
      for (let i = 0; i < enrolled; i++) {
        const person = await p.create({ name: `person ${i}`, externalId: `p${i}` });
        const crop = await c.create({
          imagePath: opts.enrolPhoto,
          width: 160,
          height: 160,
          sha256: `seed-${i}`,
          personId: person.id,
        });
        if (i === 0) target = person.id;
        await e.upsert({
          faceCropId: crop.id,
          modelName: model.name,
          modelVersion: model.version,
          embedding: i === 0 ? real : unitVector(model.dimensions, i + 1),
        });
      }
    });
    await db.destroy();

    const probe = await sharp(await readFile(opts.probePhoto))
      .resize({ width: 160 })
      .jpeg({ quality: 90 })
      .toBuffer();
    const server = await startServer({
      mediaRoot: path.join(work, 'media'),
      workDir: work,
      env: { FACEEMBED_DATABASE_URL: `sqlite:${dbFile}` },
    });
    try {
      const once = async (): Promise<{ ms: number; personId: number | null }> => {
        const form = new FormData();
        form.append('image', new Blob([new Uint8Array(probe)], { type: 'image/jpeg' }), 'probe.jpg');
        const t0 = performance.now();
        const res = await fetch(`${server.baseUrl}/api/attendance/identify/`, { method: 'POST', body: form });
        const body = (await res.json()) as { faces?: { person_id: number | null }[] };
        const ms = performance.now() - t0;
        if (!res.ok) throw new Error(`identify: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
        return { ms, personId: body.faces?.[0]?.person_id ?? null };
      };
      for (let i = 0; i < 10; i++) await once(); // warm: gallery loaded, workers hot
      const times: number[] = [];
      let right = 0;
      for (let i = 0; i < requests; i++) {
        const r = await once();
        times.push(r.ms);
        if (r.personId === target) right++;
      }
      return {
        enrolled,
        requests,
        p50_ms: round(quantile(times, 0.5), 1),
        p99_ms: round(quantile(times, 0.99), 1),
        right_person: right,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
