import type { Command } from 'commander';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'Generate one embedding in this process and write the result file (the old worker; exit 0 ok, 1 handled error)',
    )
    .argument('<image>', 'image file')
    .argument('<model>', "model name or alias ('facenet', 'arcface', …)")
    .argument('<result>', 'result JSON file to write')
    .action(async (image: string, model: string, result: string) => {
      // Imported here: only this command loads onnxruntime into the CLI process.
      const { runOnce } = await import('../../inference/worker/worker.js');
      process.exitCode = await runOnce(image, model, result);
    });
}
