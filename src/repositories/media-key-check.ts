// The media key proven against the media root at start: a small check file, sealed with the key
// when the root is first used with one, must open with the key given later; with no key, no
// check file may exist (the files are encrypted). A wrong or missing key stops the start.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ValidationError } from '../errors.js';
import { seal, unseal } from '../image/sealed-file.js';

/** Written at the first start with a media key: later starts prove their key opens it. */
export const KEY_CHECK_FILE = '.media-key-check';
const KEY_CHECK_TEXT = 'faceembed media key check v1';

/** Resolves when `key` (undefined: files stored plain) fits the media root; ValidationError otherwise. */
export async function checkMediaKey(root: string, key: Buffer | undefined): Promise<void> {
  const file = path.join(root, KEY_CHECK_FILE);
  const existing = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!key) {
    if (existing)
      throw new ValidationError(
        'The media files are encrypted: set FACEEMBED_MEDIA_KEY_FILE (or FACEEMBED_MEDIA_KEY) to their key',
        { check_file: KEY_CHECK_FILE },
      );
    return;
  }
  if (!existing) {
    await mkdir(root, { recursive: true });
    try {
      await writeFile(file, seal(Buffer.from(KEY_CHECK_TEXT), key), { flag: 'wx' });
      return;
    } catch (err) {
      // Another process starting at the same moment wrote it first: check against theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return checkMediaKey(root, key);
    }
  }
  let opened: Buffer | undefined;
  try {
    opened = unseal(existing, key, KEY_CHECK_FILE);
  } catch {
    opened = undefined;
  }
  if (!opened || opened.toString() !== KEY_CHECK_TEXT)
    throw new ValidationError(
      'The media key does not open this media root (FACEEMBED_MEDIA_KEY_FILE or FACEEMBED_MEDIA_KEY is wrong)',
      { check_file: KEY_CHECK_FILE },
    );
}
