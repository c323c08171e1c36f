import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { serializeError } from '../../errors.js';
import { drawFaces } from '../../image/draw.js';
import { DEFAULT_MODEL_NAME } from '../../models/registry.js';
import { serviceFor } from './service-options.js';

interface FacesFlags {
  verbose?: boolean;
  draw?: string;
  minFaceSize?: number;
  maxFaces?: number;
}

export function registerFaces(program: Command): void {
  program
    .command('faces')
    .description('List every face in an image: {"faces": [{"box", "score", "landmarks"}]}, largest first')
    .argument('<image>', 'image file')
    .option('--draw <out>', 'also write the image with numbered boxes and landmarks (.jpg, .png or .webp)')
    .addOption(new Option('--min-face-size <px>', 'smallest face width the scan is sized for').argParser(Number))
    .addOption(new Option('--max-faces <n>', 'keep at most this many faces, the largest').argParser(Number))
    .option('-v, --verbose', 'log every step on stderr')
    .action(async (image: string, flags: FacesFlags) => {
      const service = serviceFor({ model: DEFAULT_MODEL_NAME, detect: 'auto', ...flags }, 1);
      try {
        const faces = await service.detectFaces(image, {
          ...(flags.minFaceSize !== undefined ? { minFaceSize: flags.minFaceSize } : {}),
          ...(flags.maxFaces !== undefined ? { maxFaces: flags.maxFaces } : {}),
        });
        if (flags.draw) await drawFaces(image, faces, flags.draw, loadConfig().image);
        process.stdout.write(`${JSON.stringify({ faces })}\n`);
      } catch (err) {
        process.stdout.write(`${JSON.stringify({ success: false, error: serializeError(err) })}\n`);
        process.exitCode = 1;
      } finally {
        await service.close();
      }
    });
}
