// Files a command brings into the media root (import, enrol): which files are images, and where
// one from outside the root is copied so that every server and worker node can read it.
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

export const IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|avif|heic)$/i;

/** How long a just-started command waits for the job queue to connect. */
export const QUEUE_CONNECT_MS = 10_000;

/**
 * `file` (under the command's folder `root`) as a path relative to the media root: as it is when
 * `root` lies inside the media root, else copied to imports/<root's name>/<its path under root>.
 * `copied` is the copy made, for removal when what it was for is refused.
 */
export async function intoMediaRoot(
  mediaRoot: string,
  root: string,
  file: string,
): Promise<{ rel: string; copied?: string }> {
  if (!path.relative(mediaRoot, root).startsWith('..')) return { rel: path.relative(mediaRoot, file) };
  const rel = path.join('imports', path.basename(root), path.relative(root, file));
  const copied = path.join(mediaRoot, rel);
  await mkdir(path.dirname(copied), { recursive: true });
  await copyFile(file, copied);
  return { rel, copied };
}
