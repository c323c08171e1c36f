// Media files encrypted at rest (FACEEMBED_MEDIA_KEY_FILE): AES-256-GCM, a fresh 12-byte IV
// per file, the header authenticated with the bytes. Layout: "FEMC" | version 1 | IV | cipher
// text | 16-byte tag. A file without the header is read as it is (a client's own file under
// the media root). Wrong key or altered bytes fail the tag check: a typed error, never pixels.
// The process key is set once at start (server, worker node, every pool worker), so that every
// image read in this folder opens sealed files the same way, in memory only.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { ImageDecodeError } from '../errors.js';

const MAGIC = Buffer.from('FEMC', 'latin1');
const VERSION = 1;
const HEADER = Buffer.concat([MAGIC, Buffer.from([VERSION])]);
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes a sealed file has beyond its content. */
export const SEAL_OVERHEAD = HEADER.length + IV_BYTES + TAG_BYTES;
export const MEDIA_KEY_BYTES = 32;

let processKey: Buffer | undefined;

/** The key every read in this process opens sealed files with (undefined: none configured). */
export function setMediaKey(key: Buffer | undefined): void {
  if (key && key.length !== MEDIA_KEY_BYTES) throw new RangeError(`a media key is ${MEDIA_KEY_BYTES} bytes`);
  processKey = key;
}

export function isSealed(data: Buffer): boolean {
  return data.length >= HEADER.length && data.subarray(0, HEADER.length).equals(HEADER);
}

export function seal(data: Buffer, key: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(HEADER);
  const body = Buffer.concat([cipher.update(data), cipher.final()]);
  return Buffer.concat([HEADER, iv, body, cipher.getAuthTag()]);
}

/** The content of a sealed file; ImageDecodeError when the key is wrong, missing or the bytes were altered. */
export function unseal(data: Buffer, key: Buffer | undefined = processKey, label = 'media file'): Buffer {
  if (!isSealed(data)) return data;
  if (!key) throw new ImageDecodeError(`${label} is encrypted and no media key is configured`);
  if (data.length < SEAL_OVERHEAD) throw new ImageDecodeError(`${label} is an incomplete encrypted file`);
  const iv = data.subarray(HEADER.length, HEADER.length + IV_BYTES);
  const tag = data.subarray(data.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(HEADER);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([
      decipher.update(data.subarray(HEADER.length + IV_BYTES, data.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new ImageDecodeError(`${label} does not open with the configured media key (wrong key or altered file)`);
  }
}

/** Whether the file on disk starts with the sealed header (reads 5 bytes). */
export async function fileIsSealed(absPath: string): Promise<boolean> {
  const handle = await open(absPath, 'r');
  try {
    const head = Buffer.alloc(HEADER.length);
    const { bytesRead } = await handle.read(head, 0, HEADER.length, 0);
    return isSealed(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * What sharp should read for a file: the path itself when the file is plain, its decrypted bytes
 * when sealed. Buffers pass through.
 */
export async function imageSource(input: string | Buffer): Promise<string | Buffer> {
  if (typeof input !== 'string') return input;
  let sealed: boolean;
  try {
    sealed = await fileIsSealed(input);
  } catch {
    return input; // missing or unreadable: the caller's own checks name the reason
  }
  return sealed ? unseal(await readFile(input), processKey, input) : input;
}

/** The file's content, decrypted when sealed. */
export async function readImageFile(absPath: string): Promise<Buffer> {
  return unseal(await readFile(absPath), processKey, absPath);
}
