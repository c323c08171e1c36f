import type { Command } from 'commander';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('Run the performance benchmark suite (writes docs/benchmarks.md and .json unless --quick)')
    .option('--quick', 'small counts: a smoke run of every part')
    .option('--out <file>', 'write the Markdown report here')
    .option('--json <file>', 'write the JSON results here')
    .option('--data <dir>', 'folder of face photos (default ../shared/datasets/deepface-unit)')
    .action(async (flags: { quick?: boolean; out?: string; json?: string; data?: string }) => {
      // The suite lives outside src/ (it uses dev dependencies): loaded only when asked for.
      const { runBench } = await import('../../../bench/run.js');
      await runBench({ ...flags, command: `faceembed ${process.argv.slice(2).join(' ')}` });
    });
}
