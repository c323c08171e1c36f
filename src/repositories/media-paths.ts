// The paths a client names under the media root, checked lexically: no '..', no absolute or drive
// paths, no control characters, nothing that URL-decodes into one of those. MediaStorage checks
// them again once symlinks are resolved (isInside: realpath must stay inside the root).
import path from 'node:path';
import { ValidationError } from '../errors.js';

/** Refuses a client-named path with the reason; the path is echoed back cut to 300 characters. */
export const invalidPath = (input: string, why: string): never => {
  throw new ValidationError(`Invalid image_path: ${why}`, { image_path: input.slice(0, 300) });
};

function checkLexically(input: string, candidate: string): string[] {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(candidate)) invalidPath(input, 'control characters are not allowed');
  if (candidate.includes('\\')) invalidPath(input, 'backslashes are not allowed; use "/"');
  if (candidate.startsWith('/') || /^[a-zA-Z]:/.test(candidate))
    invalidPath(input, 'must be relative to the media root');
  const parts = candidate.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) invalidPath(input, '".." segments are not allowed');
  return parts;
}

/** The normalised relative form of a client-supplied path, or ValidationError. */
export function normaliseRelativePath(input: string): string {
  if (input.length === 0 || input.length > 1024) invalidPath(input, 'must be 1 to 1024 characters');
  const parts = checkLexically(input, input);
  if (parts.length === 0) invalidPath(input, 'names no file');
  // A name is taken literally, but one that would turn into a traversal once some layer
  // URL-decodes it (%2e%2e%2f, %252e…, %00) is refused too.
  let decoded = input;
  for (let round = 0; round < 3 && /%[0-9a-f]{2}/i.test(decoded); round++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      break;
    }
    checkLexically(input, decoded);
  }
  return parts.join('/');
}

/** Whether `target` lies strictly inside `root` (both absolute, symlinks already resolved). */
export const isInside = (root: string, target: string): boolean => {
  const rel = path.relative(root, target);
  return rel === '' ? false : !rel.startsWith('..') && !path.isAbsolute(rel);
};
