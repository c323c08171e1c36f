// The Content-Type of a stored image, from its extension: uploads are named after their stored
// format (media-storage), so the extension is the format. One map for crops and class photos.
import path from 'node:path';

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

export const imageMediaType = (file: string): string =>
  MEDIA_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
