// `faceembed erase PERSON_ID [--all]` and `faceembed purge [--dry-run]` (docs/privacy.md): the
// same erasure and retention purge as the HTTP API, run in this process on the configured
// database and media root, audited with the actor `cli`. The servers' search galleries hear of an
// erasure on the change bus. Each prints its receipt or report as one JSON object.
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { ValidationError } from '../../errors.js';
import { createLogger } from '../../logging/logger.js';
import { openServices } from '../../main.js';
import type { AppServices } from '../../http/app.js';
import { openDatabase } from '../../repositories/database.js';
import { migrate } from '../../repositories/migrate.js';
import { EmbeddingService } from '../../services/embedding.service.js';
import { receiptJson } from '../../services/erasure.service.js';
import { purgeReportJson } from '../../services/retention.service.js';

const ACTOR = 'cli';

/** The services over the configured database; no model is loaded (neither command embeds). */
async function withServices<T>(fn: (services: AppServices) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger('warn');
  const db = openDatabase(config.databaseUrl);
  const embedder = new EmbeddingService({ config, logger, workers: 1, preload: [] });
  let opened: Awaited<ReturnType<typeof openServices>> | undefined;
  try {
    await migrate(db);
    opened = await openServices({ db, embedder, config, logger });
    return await fn(opened.services);
  } finally {
    await opened?.close();
    await embedder.close();
    await db.destroy();
  }
}

function personId(text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) < 1)
    throw new ValidationError(`PERSON_ID must be a positive integer (got "${text}")`);
  return Number(text);
}

export function registerPrivacy(program: Command): void {
  program
    .command('erase')
    .description("Erase a person's biometric data (faces, embeddings, files); prints the receipt as JSON")
    .argument('<PERSON_ID>', 'the person (id)')
    .option('--all', 'also replace their name, external_id and metadata by a pseudonym')
    .action(async (id: string, flags: { all?: boolean }) => {
      const receipt = await withServices((s) => s.erasure.erase(personId(id), flags.all ? 'all' : 'biometric', ACTOR));
      process.stdout.write(`${JSON.stringify(receiptJson(receipt))}\n`);
    });

  program
    .command('purge')
    .description('Remove what is past its retention period (FACEEMBED_RETAIN_*_DAYS); prints the report as JSON')
    .option('--dry-run', 'count what would be removed, remove nothing')
    .action(async (flags: { dryRun?: boolean }) => {
      const report = await withServices((s) => s.retention.purge({ dryRun: flags.dryRun === true, actor: ACTOR }));
      process.stdout.write(`${JSON.stringify(purgeReportJson(report))}\n`);
    });
}
