import type { Command } from 'commander';
import { serializeError } from '../../errors.js';
import { DEFAULT_MODEL_NAME } from '../../models/registry.js';
import { serviceFor } from './service-options.js';

export function registerFaces(program: Command): void {
  program
    .command('faces')
    .description('List every face in an image: {"faces": [{"box", "score", "landmarks"}]}')
    .argument('<image>', 'image file')
    .option('-v, --verbose', 'log every step on stderr')
    .action(async (image: string, flags: { verbose?: boolean }) => {
      const service = serviceFor({ model: DEFAULT_MODEL_NAME, detect: 'auto', ...flags }, 1);
      try {
        const faces = await service.detectFaces(image);
        process.stdout.write(`${JSON.stringify({ faces })}\n`);
      } catch (err) {
        process.stdout.write(`${JSON.stringify({ success: false, error: serializeError(err) })}\n`);
        process.exitCode = 1;
      } finally {
        await service.close();
      }
    });
}
