// No orphans: when the process that owns the pool dies by SIGKILL (no cleanup code runs), its
// workers, idle or busy, notice the closed IPC channel and exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fixture, isGone, pollUntil, procState } from './harness.js';

test('workers exit within 2 s of their parent being SIGKILLed', { timeout: 20_000 }, async (t) => {
  const parent = spawn(process.execPath, [fixture('pool-parent')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => parent.once('exit', resolve));
  t.after(() => parent.kill('SIGKILL'));
  const lines = createInterface({ input: parent.stdout })[Symbol.asyncIterator]();
  const [line] = await Promise.race([
    lines.next().then((r) => [r.value as string | undefined]),
    exited.then(() => [undefined]),
  ]);
  assert.ok(line, 'the parent printed its workers');
  const { parent: parentPid, pids } = JSON.parse(line) as { parent: number; pids: number[] };
  assert.equal(pids.length, 2);
  for (const pid of pids) assert.equal(procState(pid)?.ppid, parentPid, 'workers are children of the pool owner');

  parent.kill('SIGKILL');
  await exited;
  const killedAt = performance.now();
  const gone = await pollUntil(() => pids.every(isGone), 2_000);
  const tookMs = performance.now() - killedAt;
  assert.ok(gone, `workers still alive 2 s after the parent died: ${pids.filter((p) => !isGone(p)).join(', ')}`);
  t.diagnostic(`workers gone ${tookMs.toFixed(0)} ms after the parent's exit`);
});
