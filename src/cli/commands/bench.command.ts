import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ValueError } from '../../errors.js';
import { runSearchBench } from './search-bench.js';

// The benchmark suite lives outside the product (bench/, dev dependencies): it is run as its own
// process from a clone, never imported; its flags (and its --help) are its own.
const BENCH_SCRIPT = fileURLToPath(new URL('../../../bench/run.js', import.meta.url));

const positive = (text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};

export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description(
      'Run the performance benchmark suite of a clone (npm run bench; writes docs/benchmarks.md and .json unless --quick; ' +
        '`faceembed bench --help` lists its flags); `bench search` measures the search index',
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .action(async (_flags: unknown, cmd: Command) => {
      if (!existsSync(BENCH_SCRIPT))
        throw new ValueError(`No benchmark suite at ${BENCH_SCRIPT}: run it from a built clone`);
      const child = spawn(process.execPath, [BENCH_SCRIPT, ...cmd.args], { stdio: 'inherit' });
      process.exitCode = await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
    });
  // The product's own search index, measured in this process.
  bench
    .command('search')
    .description('The search index at scale on a synthetic gallery: exact and HNSW side by side (recall against exact)')
    .helpOption('-h, --help', 'display help for command')
    .allowUnknownOption(false)
    .allowExcessArguments(false)
    .addOption(new Option('--vectors <n>', 'vectors in the index').argParser(positive).default(100_000))
    .addOption(new Option('--dims <d>', 'dimensions per vector').argParser(positive).default(128))
    .addOption(new Option('--queries <q>', 'queries timed').argParser(positive).default(200))
    .option(
      '--distribution <kind>',
      "faces (spread like a model's real faces: the stored statistics of the model with --dims dimensions), " +
        'faces:<model>, or uniform (random directions, the stress case)',
      'faces',
    )
    .option('--json', 'one JSON object per index kind, one a line')
    .action((flags: { vectors: number; dims: number; queries: number; distribution: string; json?: boolean }) =>
      runSearchBench({ ...flags, json: flags.json ?? false }),
    );
}
