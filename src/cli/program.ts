// The `faceembed` command tree (commander), built without parsing it: index.ts parses argv, and
// the CLI test walks every subcommand. Help exits 0; a usage error (unknown flag, missing or bad
// argument) prints the error and the command's usage, and exits 2.
import { Command, type CommanderError } from 'commander';
import { registerBench } from './commands/bench.command.js';
import { registerCompare } from './commands/compare.command.js';
import { registerEmbed } from './commands/embed.command.js';
import { registerEnrol } from './commands/enrol.command.js';
import { registerIdentify } from './commands/identify.command.js';
import { registerFaces } from './commands/faces.command.js';
import { registerFsck } from './commands/fsck.command.js';
import { registerImport } from './commands/import.command.js';
import { registerJobs } from './commands/jobs.command.js';
import { registerModels } from './commands/models.command.js';
import { registerPrivacy } from './commands/privacy.command.js';
import { registerReembed } from './commands/reembed.command.js';
import { registerServe } from './commands/serve.command.js';
import { registerWorker } from './commands/worker.command.js';
import { registerWorkerNode } from './commands/worker-node.command.js';

export const USAGE_EXIT = 2;

/** The exit code of a commander stop: 0 after help, USAGE_EXIT for a usage error. */
export const usageExit = (err: CommanderError): number => (err.exitCode === 0 ? 0 : USAGE_EXIT);

/** Inherited by every subcommand registered after it is set. */
const exitOnUsage = (err: CommanderError): never => process.exit(usageExit(err));

export function buildProgram(): Command {
  const program = new Command('faceembed')
    .description('Face embeddings for attendance systems: ONNX models in supervised worker processes')
    .showHelpAfterError()
    .exitOverride(exitOnUsage);
  for (const register of [
    registerWorker,
    registerEmbed,
    registerCompare,
    registerFaces,
    registerModels,
    registerServe,
    registerImport,
    registerEnrol,
    registerReembed,
    registerIdentify,
    registerBench,
    registerWorkerNode,
    registerJobs,
    registerPrivacy,
    registerFsck,
  ])
    register(program);
  return program;
}
