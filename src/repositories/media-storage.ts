// Image files under the media root. Every path a client names is checked twice: lexically
// (no '..', no absolute or drive paths, no NUL, nothing that decodes into one of those) and
// after symlinks are resolved (realpath must stay inside the root).
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, realpath, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileNotFoundError, ImageTooLargeError, ValidationError } from '../errors.js';

export const UPLOADS_DIR = 'uploads';

const EXTENSIONS: Readonly<Record<string, string>> = Object.freeze({
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tif',
  avif: 'avif',
  heif: 'heic',
});

export interface MediaFile {
  /** Relative to the media root, '/'-separated, normalised. */
  relPath: string;
  absPath: string;
}

export interface StagedUpload {
  tmpPath: string;
  sha256: string;
  bytes: number;
}

const reject = (input: string, why: string): never => {
  throw new ValidationError(`Invalid image_path: ${why}`, { image_path: input.slice(0, 300) });
};

function checkLexically(input: string, candidate: string): string[] {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(candidate)) reject(input, 'control characters are not allowed');
  if (candidate.includes('\\')) reject(input, 'backslashes are not allowed; use "/"');
  if (candidate.startsWith('/') || /^[a-zA-Z]:/.test(candidate)) reject(input, 'must be relative to the media root');
  const parts = candidate.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) reject(input, '".." segments are not allowed');
  return parts;
}

/** The normalised relative form of a client-supplied path, or ValidationError. */
export function normaliseRelativePath(input: string): string {
  if (input.length === 0 || input.length > 1024) reject(input, 'must be 1 to 1024 characters');
  const parts = checkLexically(input, input);
  if (parts.length === 0) reject(input, 'names no file');
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

const isInside = (root: string, target: string): boolean => {
  const rel = path.relative(root, target);
  return rel === '' ? false : !rel.startsWith('..') && !path.isAbsolute(rel);
};

export class MediaStorage {
  readonly root: string;
  private realRoot: Promise<string> | undefined;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** A client-named file: must exist, be a regular file and really live inside the root. */
  async resolve(input: string): Promise<MediaFile> {
    const relPath = normaliseRelativePath(input);
    const absPath = path.join(this.root, relPath);
    let real: string;
    try {
      real = await realpath(absPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR')
        throw new FileNotFoundError(`Image file not found: ${relPath}`, { image_path: relPath });
      throw err;
    }
    if (!isInside(await this.rootReal(), real)) reject(input, 'resolves outside the media root');
    if (!(await stat(real)).isFile()) reject(input, 'is not a regular file');
    return { relPath, absPath: real };
  }

  /** Streams an upload to a temporary file, hashing it and refusing more than maxBytes. */
  async stageUpload(source: Readable, maxBytes: number): Promise<StagedUpload> {
    const dir = path.join(this.root, UPLOADS_DIR);
    await mkdir(dir, { recursive: true });
    const tmpPath = path.join(dir, `.${randomUUID()}.part`);
    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          done(new ImageTooLargeError(`Upload is larger than the limit of ${maxBytes} bytes`, { maxBytes }));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmpPath, { flags: 'wx' }));
    } catch (err) {
      await rm(tmpPath, { force: true });
      throw err;
    }
    return { tmpPath, sha256: hash.digest('hex'), bytes };
  }

  /** A file under the root, staged as if it had been uploaded (the original stays where it is). */
  async stageFile(input: string, maxBytes: number): Promise<StagedUpload> {
    const file = await this.resolve(input);
    return this.stageUpload(createReadStream(file.absPath), maxBytes);
  }

  /** Moves a staged upload to uploads/<uuid>.<ext>; the extension follows the sniffed format. */
  async commitUpload(staged: StagedUpload, format: string): Promise<MediaFile> {
    const ext = EXTENSIONS[format] ?? 'img';
    const relPath = `${UPLOADS_DIR}/${randomUUID()}.${ext}`;
    const absPath = path.join(this.root, relPath);
    await rename(staged.tmpPath, absPath);
    return { relPath, absPath };
  }

  /** Writes bytes the service made (a face crop) to uploads/<uuid>.<ext>. */
  async writeUpload(data: Buffer, format: string): Promise<MediaFile & { sha256: string }> {
    const ext = EXTENSIONS[format] ?? 'img';
    const relPath = `${UPLOADS_DIR}/${randomUUID()}.${ext}`;
    const absPath = path.join(this.root, relPath);
    await mkdir(path.dirname(absPath), { recursive: true });
    await writeFile(absPath, data, { flag: 'wx' });
    return { relPath, absPath, sha256: createHash('sha256').update(data).digest('hex') };
  }

  async discard(staged: StagedUpload): Promise<void> {
    await rm(staged.tmpPath, { force: true });
  }

  /** Deletes a file this storage wrote (under uploads/); other paths belong to their owners. */
  async removeUpload(relPath: string): Promise<boolean> {
    if (!relPath.startsWith(`${UPLOADS_DIR}/`)) return false;
    await rm(path.join(this.root, normaliseRelativePath(relPath)), { force: true });
    return true;
  }

  /**
   * Erasure and retention: deletes a file under the root that no row names any more (the caller
   * checked); true when a file was there and is gone, false when there was none.
   */
  async removeFile(relPath: string): Promise<boolean> {
    try {
      await unlink(path.join(this.root, normaliseRelativePath(relPath)));
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw err;
    }
  }

  async sha256(absPath: string): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(absPath)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  private rootReal(): Promise<string> {
    this.realRoot ??= mkdir(this.root, { recursive: true })
      .then(() => realpath(this.root))
      .catch((err: unknown) => {
        this.realRoot = undefined;
        throw err;
      });
    return this.realRoot;
  }
}
