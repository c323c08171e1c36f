// The one mechanism for generated documents: a benchmark rewrites its own section and leaves the
// rest of the document as it was.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { carrySections, section, writeSection } from '../../bench/parts/doc-sections.js';

test('writeSection replaces its own section only, and appends it to a document without one', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faceembed-doc-'));
  try {
    const file = path.join(dir, 'doc.md');
    await writeFile(file, `# Title\n\n${section('a', 'old a')}\n\n${section('b', 'old b')}\n`);
    await writeSection(file, 'a', 'new a\n');
    assert.equal(await readFile(file, 'utf8'), `# Title\n\n${section('a', 'new a')}\n\n${section('b', 'old b')}\n`);
    await writeSection(file, 'c', 'c');
    assert.ok((await readFile(file, 'utf8')).endsWith(`${section('b', 'old b')}\n\n${section('c', 'c')}\n`));
    await writeSection(path.join(dir, 'new.md'), 'a', 'a');
    assert.equal(await readFile(path.join(dir, 'new.md'), 'utf8'), `${section('a', 'a')}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a full rewrite carries the other benchmarks’ sections over', () => {
  const old = `x\n${section('jobs', 'kept')}\n`;
  assert.equal(
    carrySections(old, `fresh\n${section('jobs', 'placeholder')}\n`, ['jobs']),
    `fresh\n${section('jobs', 'kept')}\n`,
  );
});
