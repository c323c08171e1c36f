// Image files under the media root. Every path a client names is checked twice: lexically
// (media-paths.ts) and after symlinks are resolved (realpath must stay inside the root).
// The files the service writes live in its own folders (uploads/, and imports/ where commands
// copy files from outside the root); each has one owner row and goes with it. They are stored
// without metadata (image/clean.ts) and, with a media key, encrypted (image/sealed-file.ts).
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, realpath, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileNotFoundError, ImageTooLargeError } from '../errors.js';
import { cleanImage } from '../image/clean.js';
import { DEFAULT_LIMITS, type ImageLimits } from '../image/decode.js';
import { fileIsSealed, seal, unseal } from '../image/sealed-file.js';
import { checkMediaKey } from './media-key-check.js';
import { invalidPath, isInside, normaliseRelativePath } from './media-paths.js';

export const UPLOADS_DIR = 'uploads';
/** Where commands copy files from outside the media root (cli/commands/media-files.ts). */
export const IMPORTS_DIR = 'imports';
/** The folders whose files the service wrote and removes: everything else under the root is the client's. */
export const SERVICE_DIRS: readonly string[] = Object.freeze([UPLOADS_DIR, IMPORTS_DIR]);
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
    if (!isInside(await this.rootReal(), real)) invalidPath(input, 'resolves outside the media root');
    if (!(await stat(real)).isFile()) invalidPath(input, 'is not a regular file');
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
    return checkMediaKey(this.root, this.key);
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
