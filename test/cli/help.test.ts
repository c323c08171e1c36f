// Every subcommand of the commander program, walked from the tree itself (a new subcommand is
// covered without a new line here): `--help` answers a usage text and exit 0; an unknown flag
// answers the error and a usage line, exit 2. Parsed in this process (one bin start per command
// would cost a second each); commands that hand their flags to a script of their own (`bench`)
// and the case from the issue (`bench search`) run through the bin as a user would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CommanderError, type Command } from 'commander';
import { buildProgram, usageExit, USAGE_EXIT } from '../../src/cli/program.js';
import { BIN, REPO } from '../helpers/paths.js';

const exec = promisify(execFile);

interface Answer {
  code: number;
  stdout: string;
  stderr: string;
}

function throughBin(args: string[]): Promise<Answer> {
  return exec(BIN, args, { cwd: REPO, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

const descendants = (cmd: Command): Command[] => cmd.commands.flatMap((c) => [c, ...descendants(c)]);

/** A fresh program, its exits turned into errors and its output captured. */
async function inProcess(args: string[]): Promise<Answer> {
  const program = buildProgram();
  const answer = { code: -1, stdout: '', stderr: '' };
  for (const c of [program, ...descendants(program)])
    c.exitOverride().configureOutput({
      writeOut: (s) => (answer.stdout += s),
      writeErr: (s) => (answer.stderr += s),
    });
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    answer.code = usageExit(err);
  }
  return answer;
}

const pathOf = (c: Command): string[] => (c.parent ? [...pathOf(c.parent), c.name()] : []);
/** A command whose --help is not commander's: its flags go to a script of its own. */
const passesFlagsOn = (c: Command) => (c as unknown as { _helpOption: unknown })._helpOption === null;

function check(name: string, help: Answer, bad: Answer): string[] {
  const failures: string[] = [];
  if (help.code !== 0 || !/^Usage: /m.test(help.stdout))
    failures.push(`${name} --help: exit ${help.code}, ${help.stdout.slice(0, 200)}${help.stderr.slice(0, 300)}`);
  if (bad.code !== USAGE_EXIT || !/^Usage: /m.test(bad.stderr) || /\n\s+at /.test(bad.stderr))
    failures.push(`${name} --no-such-flag: exit ${bad.code}, ${bad.stderr.slice(0, 300)}`);
  return failures;
}

test('every subcommand answers --help (exit 0) and an unknown flag (usage line, exit 2)', async () => {
  const program = buildProgram();
  const commands = [program, ...descendants(program)];
  assert.ok(commands.length > 15, `${commands.length} commands walked`);
  const failures: string[] = [];
  for (const c of commands) {
    const path = pathOf(c);
    const answer = passesFlagsOn(c) || path.join(' ') === 'bench search' ? throughBin : inProcess;
    const name = ['faceembed', ...path].join(' ');
    failures.push(...check(name, await answer([...path, '--help']), await answer([...path, '--no-such-flag'])));
  }
  assert.deepEqual(failures, []);
});
