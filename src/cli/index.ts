// The `faceembed` command line: wiring only; each command lives in commands/.
import { Command } from 'commander';
import { registerBench } from './commands/bench.command.js';
import { registerCompare } from './commands/compare.command.js';
import { registerEmbed } from './commands/embed.command.js';
import { registerEnrol } from './commands/enrol.command.js';
import { registerIdentify } from './commands/identify.command.js';
import { registerFaces } from './commands/faces.command.js';
import { registerImport } from './commands/import.command.js';
import { registerJobs } from './commands/jobs.command.js';
import { registerModels } from './commands/models.command.js';
import { registerReembed } from './commands/reembed.command.js';
import { registerServe } from './commands/serve.command.js';
import { registerWorker } from './commands/worker.command.js';
import { registerWorkerNode } from './commands/worker-node.command.js';

const program = new Command('faceembed')
  .description('Face embeddings for attendance systems: ONNX models in supervised worker processes')
  .showHelpAfterError();

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
])
  register(program);

await program.parseAsync(process.argv);
