import type { Command } from 'commander';
import { serializeError } from '../../errors.js';
import { toResultFile } from '../../inference/result-file.js';
import { serviceFor, withServiceOptions, type ServiceFlags } from './service-options.js';

export function registerEmbed(program: Command): void {
  withServiceOptions(program.command('embed'))
    .description('Print one JSON line per image: the embedding or a typed error (exit 1 if any failed)')
    .argument('<images...>', 'image files')
    .action(async (images: string[], flags: ServiceFlags) => {
      const service = serviceFor(flags, images.length);
      try {
        const results = await Promise.allSettled(images.map((image) => service.generateEmbedding(image)));
        results.forEach((r, i) => {
          const line =
            r.status === 'fulfilled'
              ? toResultFile({ kind: 'embed', ...r.value, model: r.value.modelName, timings: {} })
              : { success: false, error: serializeError(r.reason) };
          process.stdout.write(`${JSON.stringify({ image: images[i], ...line })}\n`);
        });
        if (results.some((r) => r.status === 'rejected')) process.exitCode = 1;
      } finally {
        await service.close();
      }
    });
}
