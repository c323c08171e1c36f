// Error answers never show where the server keeps its files (docs/api.md "Errors"): a path
// under the media root is answered relative to it (as clients name files), any other absolute
// path is replaced by "<path>". Messages come from deep inside (sharp, the file system, the
// workers), so this runs once, on the way out, over the message and every string of details.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The top-level directories of this machine: an absolute path starts with one of them. */
function topLevelDirs(): string[] {
  try {
    return readdirSync('/', { withFileTypes: true })
      .filter((d) => d.isDirectory() || d.isSymbolicLink())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

export function pathRedactor(mediaRoot: string, otherRoots: readonly string[] = []): (text: string) => string {
  const media = path.resolve(mediaRoot);
  const roots = [...new Set([...otherRoots, process.cwd(), os.tmpdir(), os.homedir()].map((r) => path.resolve(r)))]
    .filter((r) => r !== path.sep)
    .sort((a, b) => b.length - a.length);
  const under = new RegExp(`${escape(media)}${escape(path.sep)}`, 'g');
  const mediaItself = new RegExp(`${escape(media)}(?![\\w.-])`, 'g');
  const known = roots.length ? new RegExp(`(?:${roots.map(escape).join('|')})(?:/[^\\s'"(),;]*)?`, 'g') : undefined;
  const tops = topLevelDirs();
  const anyAbsolute = tops.length
    ? new RegExp(`(?<![\\w.:/-])/(?:${tops.map(escape).join('|')})(?=/|\\b)(?:/[^\\s'"(),;]*)?`, 'g')
    : undefined;
  return (text) => {
    let out = text.replace(under, '').replace(mediaItself, '.');
    if (known) out = out.replace(known, '<path>');
    if (anyAbsolute) out = out.replace(anyAbsolute, '<path>');
    return out;
  };
}

/** The same value with every string passed through `redact`. */
export function redactDeep<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, redact);
    return out as T;
  }
  return value;
}
