// A benchmark script's flags (node:util parseArgs, strict), as a command line answers them:
// --help prints the usage made from the options table and exits 0; an unknown or malformed flag
// prints the error and the usage and exits 2, never a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>
>;

export const USAGE_EXIT = 2;

export function usage(command: string, options: Options): string {
  const flags = Object.entries(options).map(([name, o]) => (o.type === 'string' ? `[--${name} VALUE]` : `[--${name}]`));
  return `Usage: ${command} ${flags.join(' ')} [--help]\n`;
}

export function parseFlags<O extends Options>(command: string, options: O, args: string[]): Parsed<O> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage(command, options));
    process.exit(0);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    if (!String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) throw err;
    process.stderr.write(`error: ${(err as Error).message}\n\n${usage(command, options)}`);
    process.exit(USAGE_EXIT);
  }
}
