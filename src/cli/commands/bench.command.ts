import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ValueError } from '../../errors.js';
import { runSearchBench } from './search-bench.js';

// The benchmark suite lives outside the product (bench/, dev dependencies): it is run as its own
// process from a clone, never imported.
const BENCH_SCRIPT = fileURLToPath(new URL('../../../bench/run.js', import.meta.url));

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'Run the performance benchmark suite of a clone (npm run bench; writes docs/benchmarks.md and .json unless --quick); ' +
        '`bench search [--vectors N] [--dims D] [--distribution faces|uniform] [--json]` measures the search index',
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .action(async (_flags: unknown, cmd: Command) => {
      // `bench search` measures the product's own search index, in this process.
      if (cmd.args[0] === 'search') return runSearchBench(cmd.args.slice(1));
      if (!existsSync(BENCH_SCRIPT))
        throw new ValueError(`No benchmark suite at ${BENCH_SCRIPT}: run it from a built clone`);
      const child = spawn(process.execPath, [BENCH_SCRIPT, ...cmd.args], { stdio: 'inherit' });
      process.exitCode = await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
    });
}
