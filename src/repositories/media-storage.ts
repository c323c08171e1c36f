// Image files under the media root. Every path a client names is checked twice: lexically
// (no '..', no absolute or drive paths, no NUL, nothing that decodes into one of those) and
// after symlinks are resolved (realpath must stay inside the root).
// The files the service writes live in its own folders (uploads/, and imports/ where commands
// copy files from outside the root); each has one owner row and goes with it. They are stored
// without metadata (image/clean.ts) and, with a media key, encrypted (image/sealed-file.ts).
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, realpath, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileNotFoundError, ImageTooLargeError, ValidationError } from '../errors.js';
import { cleanImage } from '../image/clean.js';
import { DEFAULT_LIMITS, type ImageLimits } from '../image/decode.js';
import { fileIsSealed, seal, unseal } from '../image/sealed-file.js';

export const UPLOADS_DIR = 'uploads';
/** Where commands copy files from outside the media root (cli/commands/media-files.ts). */
export const IMPORTS_DIR = 'imports';
/** The folders whose files the service wrote and removes: everything else under the root is the client's. */
export const SERVICE_DIRS: readonly string[] = Object.freeze([UPLOADS_DIR, IMPORTS_DIR]);
/** Written at the first start with a media key: later starts prove their key opens it. */
export const KEY_CHECK_FILE = '.media-key-check';
const KEY_CHECK_TEXT = 'faceembed media key check v1';
/** A file being written: renamed into place once whole, so a crash leaves only .part files. */
export const PART_SUFFIX = '.part';

/** Is this relative path in one of the service's own folders? */
export const isServicePath = (relPath: string): boolean => SERVICE_DIRS.some((d) => relPath.startsWith(`${d}/`));

export interface StoredFileEntry {
  /** Relative to the media root. */
  relPath: string;
  mtimeMs: number;
  /** A temporary file (never owned by a row). */
  part: boolean;
}

export interface MediaStorageOptions {
  /** 32 bytes: files the service writes are encrypted with it. */
  key?: Buffer;
  /** Re-encoding an upload reads at most this many pixels. */
  limits?: ImageLimits;
}

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
  private readonly key: Buffer | undefined;
  private readonly limits: ImageLimits;

  constructor(root: string, opts: MediaStorageOptions = {}) {
    this.root = path.resolve(root);
    this.key = opts.key;
    this.limits = opts.limits ?? DEFAULT_LIMITS;
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
    const source = (await fileIsSealed(file.absPath))
      ? Readable.from([await this.readFile(file.absPath)])
      : createReadStream(file.absPath);
    return this.stageUpload(source, maxBytes);
  }

  /**
   * Keeps a staged upload as uploads/<uuid>.<ext>: upright, without metadata, encrypted when
   * there is a key. The staged file goes. The extension follows the stored format.
   */
  async commitUpload(staged: StagedUpload, format: string): Promise<MediaFile> {
    try {
      const clean = await cleanImage(staged.tmpPath, format, this.limits);
      const { relPath, absPath } = await this.writeUpload(clean.data, clean.format);
      return { relPath, absPath };
    } finally {
      await this.discard(staged);
    }
  }

  /** Writes bytes the service made (a face crop) to uploads/<uuid>.<ext>; sha256 is of `data`. */
  async writeUpload(data: Buffer, format: string): Promise<MediaFile & { sha256: string }> {
    const ext = EXTENSIONS[format] ?? 'img';
    const relPath = `${UPLOADS_DIR}/${randomUUID()}.${ext}`;
    const absPath = path.join(this.root, relPath);
    await mkdir(path.dirname(absPath), { recursive: true });
    const part = `${path.join(path.dirname(absPath), `.${randomUUID()}`)}${PART_SUFFIX}`;
    try {
      await writeFile(part, this.key ? seal(data, this.key) : data, { flag: 'wx' });
      await rename(part, absPath);
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
    return { relPath, absPath, sha256: createHash('sha256').update(data).digest('hex') };
  }

  async discard(staged: StagedUpload): Promise<void> {
    await rm(staged.tmpPath, { force: true });
  }

  /**
   * Deletes a file the service wrote (under uploads/ or imports/); other paths belong to the
   * client and stay. True when the path is the service's (whether or not the file was there).
   */
  async removeUpload(relPath: string): Promise<boolean> {
    if (!isServicePath(relPath)) return false;
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

  /** The content of a file under the root (resolved first), decrypted when it was stored encrypted. */
  async read(input: string): Promise<Buffer> {
    return this.readFile((await this.resolve(input)).absPath);
  }

  /** Every file in the service's folders, .part files included (for the sweep and fsck). */
  async listServiceFiles(): Promise<StoredFileEntry[]> {
    const out: StoredFileEntry[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(path.join(this.root, rel), { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const child = `${rel}/${e.name}`;
        if (e.isDirectory()) await walk(child);
        else if (e.isFile()) {
          const s = await stat(path.join(this.root, child)).catch(() => undefined);
          if (s) out.push({ relPath: child, mtimeMs: s.mtimeMs, part: e.name.endsWith(PART_SUFFIX) });
        }
      }
    };
    for (const dir of SERVICE_DIRS) await walk(dir);
    return out.sort((a, b) => a.relPath.localeCompare(b.relPath));
  }

  /** Whether a file exists at this relative path (no symlink or traversal checks: rows' own paths). */
  async exists(relPath: string): Promise<boolean> {
    return stat(path.join(this.root, normaliseRelativePath(relPath))).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  /**
   * Checks the media key against the root at start: with a key, the check file opens with it
   * (written at first use); without one, no check file may exist (the files are encrypted).
   * A wrong or missing key is a ValidationError, before anything is read or written.
   */
  async checkKey(): Promise<void> {
    const file = path.join(this.root, KEY_CHECK_FILE);
    const existing = await readFile(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!this.key) {
      if (existing)
        throw new ValidationError(
          'The media files are encrypted: set FACEEMBED_MEDIA_KEY_FILE (or FACEEMBED_MEDIA_KEY) to their key',
          { check_file: KEY_CHECK_FILE },
        );
      return;
    }
    if (!existing) {
      await mkdir(this.root, { recursive: true });
      try {
        await writeFile(file, seal(Buffer.from(KEY_CHECK_TEXT), this.key), { flag: 'wx' });
        return;
      } catch (err) {
        // Another process starting at the same moment wrote it first: check against theirs.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        return this.checkKey();
      }
    }
    let opened: Buffer | undefined;
    try {
      opened = unseal(existing, this.key, KEY_CHECK_FILE);
    } catch {
      opened = undefined;
    }
    if (!opened || opened.toString() !== KEY_CHECK_TEXT)
      throw new ValidationError(
        'The media key does not open this media root (FACEEMBED_MEDIA_KEY_FILE or FACEEMBED_MEDIA_KEY is wrong)',
        { check_file: KEY_CHECK_FILE },
      );
  }

  private async readFile(absPath: string): Promise<Buffer> {
    return unseal(await readFile(absPath), this.key, 'media file');
  }

  /** Of the file's content (decrypted when it was stored encrypted). */
  async sha256(absPath: string): Promise<string> {
    return createHash('sha256')
      .update(await this.readFile(absPath))
      .digest('hex');
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
