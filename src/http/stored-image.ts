// A stored image (a crop or a class photo) as an HTTP answer: its schema, its Content-Type from
// the extension (uploads are named after their stored format, media-storage), and the caching
// both allow (a stored file never changes; a deleted id is never reused for another image).
import path from 'node:path';
import type { FastifyReply } from 'fastify';

const MEDIA_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.avif': 'image/avif',
  '.heic': 'image/heic',
});

/** The 200 answer of an image route, for its schema. */
export const IMAGE_BYTES = {
  description: 'The image bytes',
  content: { 'image/*': { schema: { type: 'string', format: 'binary' } } },
} as const;

/** Sends a stored file's (decrypted) bytes with its type. */
export function sendStoredImage(reply: FastifyReply, absPath: string, data: Buffer): FastifyReply {
  const type = MEDIA_TYPES[path.extname(absPath).toLowerCase()] ?? 'application/octet-stream';
  reply.header('Cache-Control', 'private, max-age=3600');
  return reply.type(type).send(data);
}
