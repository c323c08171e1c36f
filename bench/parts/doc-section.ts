// docs/attendance.md holds two benchmarks' output: bench:attendance's part, then bench:clusters'
// from CLUSTERS_HEADING on. Each run rewrites its own part and keeps the other's.
import { readFile, writeFile } from 'node:fs/promises';

export const CLUSTERS_HEADING = '## Unknown-face clusters';

export async function writeSection(file: string, markdown: string, part: 'before' | 'after'): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => '');
  const at = current.indexOf(CLUSTERS_HEADING);
  const head = at < 0 ? current : current.slice(0, at);
  const tail = at < 0 ? '' : current.slice(at);
  const text = part === 'before' ? `${markdown.trimEnd()}\n\n${tail}` : `${head.trimEnd()}\n\n${markdown.trimEnd()}\n`;
  await writeFile(file, text.trimEnd() + '\n');
}
