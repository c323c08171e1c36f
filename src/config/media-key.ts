// The media key (docs/privacy.md "Files and encryption"): read from FACEEMBED_MEDIA_KEY_FILE or
// FACEEMBED_MEDIA_KEY, accepted as 64 hex characters or base64 of 32 bytes, and held as hex. A
// worker process gets it from its environment only. The key never appears in a message.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../errors.js';
import type { Env } from './env-schema.js';

/** The media key as 64 hex characters: from FACEEMBED_MEDIA_KEY_FILE or FACEEMBED_MEDIA_KEY, never both. */
export function readMediaKey(values: Record<string, unknown>, cwd: string, problems: string[]): string | undefined {
  const file = values.FACEEMBED_MEDIA_KEY_FILE;
  const text = values.FACEEMBED_MEDIA_KEY;
  if (typeof file === 'string' && typeof text === 'string') {
    problems.push('FACEEMBED_MEDIA_KEY_FILE and FACEEMBED_MEDIA_KEY: set one of them, not both');
    return undefined;
  }
  if (typeof text === 'string') return parseMediaKey(text, 'FACEEMBED_MEDIA_KEY', problems);
  if (typeof file !== 'string') return undefined;
  let content: string;
  try {
    content = readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (err) {
    problems.push(`FACEEMBED_MEDIA_KEY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  return parseMediaKey(content, 'FACEEMBED_MEDIA_KEY_FILE', problems);
}

/** 32 bytes written as 64 hex characters or as base64; the key never appears in a message. */
export function parseMediaKey(text: string, name: string, problems: string[]): string | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return t.toLowerCase();
  if (/^[A-Za-z0-9+/]{43}=?$/.test(t)) {
    const bytes = Buffer.from(t, 'base64');
    if (bytes.length === 32) return bytes.toString('hex');
  }
  problems.push(`${name}: the media key must be 32 bytes, written as 64 hex characters or as base64`);
  return undefined;
}

/**
 * The media key of a worker process: its parent passes it in the worker's environment only
 * (FACEEMBED_MEDIA_KEY, never on the command line, where other users could read it).
 */
export function workerMediaKey(env: Env = process.env): Buffer | undefined {
  const problems: string[] = [];
  const text = env.FACEEMBED_MEDIA_KEY;
  const hex = text ? parseMediaKey(text, 'FACEEMBED_MEDIA_KEY', problems) : undefined;
  if (problems.length) throw new ValidationError(`Invalid configuration: ${problems.join('; ')}`, { problems });
  return hex === undefined ? undefined : Buffer.from(hex, 'hex');
}
