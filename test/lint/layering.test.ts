// The lint rule that keeps the arrows one way (eslint.config.js, docs/development.md "Architecture"): an
// import against the layering fails `npm run lint`; the same import in the allowed direction passes.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { REPO } from '../helpers/paths.js';

const eslint = new ESLint({ cwd: REPO });

/** The no-restricted-imports messages for `code` as if it were the file at `file` (repo-relative). */
async function layeringErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(REPO, file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: { file: string; code: string; breaks: boolean }[] = [
  { file: 'src/services/x.ts', code: "import { buildApp } from '../http/app.js';", breaks: true },
  { file: 'src/cli/commands/x.ts', code: "import { buildApp } from '../../http/app.js';", breaks: false },
  { file: 'src/http/x.ts', code: "import { serve } from '../main.js';", breaks: true },
  { file: 'src/cli/commands/x.ts', code: "import { createServices } from '../../main.js';", breaks: false },
  {
    file: 'src/repositories/x.ts',
    code: "import type { FaceCropService } from '../services/face-crop.service.js';",
    breaks: true,
  },
  {
    file: 'src/services/x.ts',
    code: "import type { FaceCrop } from '../repositories/face-crop.repository.js';",
    breaks: false,
  },
  { file: 'src/domain/x.ts', code: "import { decodeImage } from '../image/decode.js';", breaks: true },
  { file: 'src/cli/commands/x.ts', code: "import { runBench } from '../../../bench/run.js';", breaks: true },
  { file: 'src/main.ts', code: "import { sample } from '../test/helpers/paths.js';", breaks: true },
  { file: 'bench/parts/x.ts', code: "import { sample } from '../../test/helpers/paths.js';", breaks: true },
  { file: 'bench/parts/x.ts', code: "import { loadConfig } from '../../src/config/config.js';", breaks: false },
  { file: 'src/inference/pool/x.ts', code: "import type { TaskRequest } from '../protocol.js';", breaks: true },
  { file: 'src/inference/pool/x.ts', code: "import { InternalError } from '../../errors.js';", breaks: false },
  { file: 'src/inference/worker/x.ts', code: "import { serveWorker } from '../pool/serve-worker.js';", breaks: false },
  { file: 'src/services/x.ts', code: "import sharp from 'sharp';", breaks: true },
  { file: 'src/image/x.ts', code: "import sharp from 'sharp';", breaks: false },
  { file: 'src/http/x.ts', code: "import { Kysely } from 'kysely';", breaks: true },
  { file: 'src/inference/x.ts', code: "import * as ort from 'onnxruntime-node';", breaks: true },
  { file: 'src/inference/worker/x.ts', code: "import * as ort from 'onnxruntime-node';", breaks: false },
  // queue/: adapters behind the services' ports (BullMQ engine, change buses).
  { file: 'src/queue/x.ts', code: "import type { JobEngine } from '../services/job.service.js';", breaks: false },
  { file: 'src/queue/x.ts', code: "import { JobRepository } from '../repositories/job.repository.js';", breaks: false },
  { file: 'src/queue/x.ts', code: "import { Queue } from 'bullmq';", breaks: false },
  { file: 'src/queue/x.ts', code: "import pg from 'pg';", breaks: false },
  { file: 'src/queue/x.ts', code: "import { buildApp } from '../http/app.js';", breaks: true },
  { file: 'src/queue/x.ts', code: "import { registerJobs } from '../cli/commands/jobs.command.js';", breaks: true },
  { file: 'src/queue/x.ts', code: "import { startJobs } from '../jobs.js';", breaks: true },
  { file: 'src/queue/x.ts', code: "import type { TaskRequest } from '../inference/protocol.js';", breaks: true },
  { file: 'src/queue/x.ts', code: "import { Kysely } from 'kysely';", breaks: true },
  { file: 'src/services/x.ts', code: "import { BullmqJobEngine } from '../queue/bullmq-job-engine.js';", breaks: true },
  { file: 'src/http/x.ts', code: "import { BullmqJobEngine } from '../queue/bullmq-job-engine.js';", breaks: true },
  { file: 'src/services/x.ts', code: "import { Queue } from 'bullmq';", breaks: true },
  { file: 'src/repositories/x.ts', code: "import { Redis } from 'ioredis';", breaks: true },
  { file: 'src/jobs.ts', code: "import { BullmqJobEngine } from './queue/bullmq-job-engine.js';", breaks: false },
  { file: 'src/jobs.ts', code: "import { registerJobs } from './cli/commands/jobs.command.js';", breaks: true },
];

for (const c of cases) {
  test(`${c.breaks ? 'refused' : 'allowed'}: ${c.file}: ${c.code}`, async () => {
    const errors = await layeringErrors(c.file, `${c.code}\nexport {};\n`);
    if (c.breaks) assert.equal(errors.length, 1, `expected one layering error, got ${JSON.stringify(errors)}`);
    else assert.deepEqual(errors, []);
  });
}
