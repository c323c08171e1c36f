import type { Command } from 'commander';
import { serializeError } from '../../errors.js';
import { EmbeddingService } from '../../services/embedding.service.js';
import { serviceFor, withServiceOptions, type ServiceFlags } from './service-options.js';

export function registerCompare(program: Command): void {
  withServiceOptions(program.command('compare'))
    .description('Compare two face images: {"similarity", "threshold", "verified", "model"}')
    .argument('<a>', 'first image')
    .argument('<b>', 'second image')
    .action(async (a: string, b: string, flags: ServiceFlags) => {
      const service = serviceFor(flags, 2);
      try {
        await service.ready();
        const [ea, eb] = await Promise.all([service.generateEmbedding(a), service.generateEmbedding(b)]);
        const similarity = EmbeddingService.calculateSimilarity(ea, eb);
        const { threshold } = service.resolveModel(flags.model);
        process.stdout.write(
          `${JSON.stringify({ similarity, threshold, verified: similarity >= threshold, model: flags.model })}\n`,
        );
      } catch (err) {
        process.stdout.write(`${JSON.stringify({ success: false, error: serializeError(err) })}\n`);
        process.exitCode = 1;
      } finally {
        await service.close();
      }
    });
}
