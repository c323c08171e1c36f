import type { Command } from 'commander';

export function registerWorkerNode(program: Command): void {
  program
    .command('worker-node')
    .description("Consume queued jobs with this machine's worker pool (needs FACEEMBED_QUEUE_URL; no HTTP)")
    .action(async () => {
      const { workerNode } = await import('../../main.js');
      await workerNode();
    });
}
