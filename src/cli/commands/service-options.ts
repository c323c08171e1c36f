// Options shared by the commands that run embeddings through an EmbeddingService.
import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import type { DetectMode } from '../../domain/face.js';
import { createLogger } from '../../logging/logger.js';
import { DEFAULT_MODEL_NAME } from '../../models/registry.js';
import { EmbeddingService } from '../../services/embedding.service.js';

export interface ServiceFlags {
  model: string;
  detect: DetectMode;
  verbose?: boolean;
}

export function withServiceOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-m, --model <name>', 'model name or alias').default(DEFAULT_MODEL_NAME))
    .addOption(new Option('--detect <mode>', 'face detection').choices(['auto', 'enforce', 'skip']).default('auto'))
    .option('-v, --verbose', 'log every step on stderr');
}

/** A service sized for `jobs` images: no more workers than images or cores. */
export function serviceFor(flags: ServiceFlags, jobs: number): EmbeddingService {
  const config = loadConfig();
  return new EmbeddingService({
    config,
    modelName: flags.model,
    detect: flags.detect,
    workers: Math.max(1, Math.min(jobs, config.pool.workers)),
    logger: createLogger(flags.verbose ? 'info' : 'warn'),
  });
}
