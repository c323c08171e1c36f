// The one mechanism for generated documents: each benchmark owns a section between
// `<!-- NAME:start -->` and `<!-- NAME:end -->` and replaces only that, so several benchmarks
// share a document (docs/attendance.md: attendance and clusters) and a full rewrite carries the others' over.
import { readFile, writeFile } from 'node:fs/promises';

const marks = (name: string) => ({ start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` });

/** `doc` with the section replaced by (or, when it has none, followed by) `section`, markers included. */
export function withSection(doc: string, name: string, section: string): string {
  const { start, end } = marks(name);
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from >= 0 && to > from) return `${doc.slice(0, from)}${section}${doc.slice(to + end.length)}`;
  return `${doc.trimEnd()}${doc ? '\n\n' : ''}${section}\n`;
}

/** The section, markers included, or undefined. */
export function sectionOf(doc: string, name: string): string | undefined {
  const { start, end } = marks(name);
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  return from >= 0 && to > from ? doc.slice(from, to + end.length) : undefined;
}

/** Wraps `body` in the section's markers. */
export const section = (name: string, body: string): string => `${marks(name).start}\n${body}\n${marks(name).end}`;

/** `fresh` with every named section of `old` carried over (sections `old` lacks are left as `fresh` has them). */
export function carrySections(old: string, fresh: string, names: readonly string[]): string {
  return names.reduce((doc, name) => {
    const kept = sectionOf(old, name);
    return kept ? withSection(doc, name, kept) : doc;
  }, fresh);
}

/** Rewrites one named section of `file` (created if absent), keeping everything else as it is. */
export async function writeSection(file: string, name: string, body: string): Promise<void> {
  const doc = await readFile(file, 'utf8').catch(() => '');
  await writeFile(file, withSection(doc, name, section(name, body.trimEnd())).trimEnd() + '\n');
}
