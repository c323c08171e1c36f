// `faceembed identify [--model M] [--group NAME] IMAGE`: every face with its best matches, as JSON.
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { NotFoundError } from '../../errors.js';
import { createLogger } from '../../logging/logger.js';
import { createServices } from '../../main.js';
import { ATTENDANCE_MODEL_NAME } from '../../models/registry.js';
import { openDatabase } from '../../repositories/database.js';
import { migrate } from '../../repositories/migrate.js';
import { EmbeddingService } from '../../services/embedding.service.js';
import { identificationJson } from '../../services/identification-json.js';

export function registerIdentify(program: Command): void {
  program
    .command('identify')
    .description('Who is in IMAGE? Every face with its best matches among the enrolled persons (JSON)')
    .argument('<image>', 'photo')
    .option('-m, --model <name>', 'model name or alias', ATTENDANCE_MODEL_NAME)
    .option('--group <name>', "search only this group's members (external_id or name)")
    .option('--top-k <n>', 'matches per face', '3')
    .action(async (image: string, flags: { model: string; group?: string; topK: string }) => {
      const config = loadConfig();
      const db = openDatabase(config.databaseUrl);
      const embedder = new EmbeddingService({
        config,
        modelName: flags.model,
        logger: createLogger('warn'),
        workers: 1,
      });
      try {
        await migrate(db);
        const { identification, groups } = createServices({ db, embedder, config });
        let groupId: number | undefined;
        if (flags.group) {
          const group = await groups.findByKey(flags.group);
          if (!group) throw new NotFoundError(`Group "${flags.group}" not found`, { group: flags.group });
          groupId = group.id;
        }
        const r = await identification.identifyFile(path.resolve(image), {
          modelName: flags.model,
          groupId,
          topK: Number(flags.topK),
        });
        const out = { image, ...identificationJson(r) };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } finally {
        await embedder.close();
        await db.destroy();
      }
    });
}
