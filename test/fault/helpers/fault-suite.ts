// `npm run test:fault [-- --report[=PATH]]`: runs the fault suite (test/fault/*.test.ts) and, only
// when asked, writes its report: docs/reliability.md by default, or PATH (a scratch file).
// Without --report nothing tracked is written, as in `npm test`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPORT_PATH, clearFragments, writeReport } from './report.js';

const SUITE = fileURLToPath(new URL('../', import.meta.url));
const files = readdirSync(SUITE)
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => path.join(SUITE, f));

const flag = process.argv.slice(2).find((a) => a === '--report' || a.startsWith('--report='));
const target = flag === undefined ? undefined : flag.includes('=') ? path.resolve(flag.split('=')[1]!) : REPORT_PATH;

clearFragments();
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
if (target) {
  writeReport(target);
  process.stdout.write(`fault report written to ${target}\n`);
}
process.exitCode = run.status ?? 1;
