// The `faceembed` command line: wiring only; the command tree is program.ts, each command lives in commands/.
import { buildProgram } from './program.js';

await buildProgram().parseAsync(process.argv);
