// `faceembed fsck [--fix] [--json] [--min-age SECONDS]`: media files and rows checked against
// each other. Orphan files: files in the service's folders (uploads/, imports/) that no row owns;
// missing files: paths rows name whose file is gone. Exit 0 when both lists are empty, else 1.
// --fix removes the orphan files (rows with a missing file are reported, never deleted).
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { ValueError } from '../../errors.js';
import { mediaSweep, mediaStorage } from '../../main.js';
import { openDatabase } from '../../repositories/database.js';
import { migrate } from '../../repositories/migrate.js';

interface FsckFlags {
  fix?: boolean;
  json?: boolean;
  minAge: string;
}

export function registerFsck(program: Command): void {
  program
    .command('fsck')
    .description('Check media files against the rows: files no row owns, rows whose file is missing')
    .option('--fix', 'remove the orphan files')
    .option('--json', 'print {"orphan_files", "missing_files"} as one JSON object')
    .option(
      '--min-age <seconds>',
      'count only files at least this old as orphans (on a live server, its sweep grace period)',
      '0',
    )
    .action(async (flags: FsckFlags) => {
      const minAge = Number(flags.minAge);
      if (!Number.isFinite(minAge) || minAge < 0)
        throw new ValueError(`--min-age must be a number of seconds >= 0, got "${flags.minAge}"`);
      const config = loadConfig();
      await mediaStorage(config).checkKey();
      const db = openDatabase(config.databaseUrl);
      try {
        await migrate(db);
        const sweeper = mediaSweep(config, db);
        const report = await sweeper.check(minAge * 1000);
        const removed = flags.fix ? await sweeper.removeOrphans(report) : undefined;
        const out = {
          orphan_files: report.orphanFiles,
          missing_files: report.missingFiles,
          ...(removed === undefined ? {} : { removed_files: removed }),
        };
        if (flags.json) process.stdout.write(`${JSON.stringify(out)}\n`);
        else {
          for (const f of out.orphan_files) process.stdout.write(`orphan file: ${f}\n`);
          for (const f of out.missing_files) process.stdout.write(`missing file: ${f}\n`);
          process.stdout.write(
            `${out.orphan_files.length} orphan files, ${out.missing_files.length} missing files` +
              (removed === undefined ? '\n' : `; ${removed.length} orphan files removed\n`),
          );
        }
        if (out.orphan_files.length > 0 || out.missing_files.length > 0) process.exitCode = 1;
      } finally {
        await db.destroy();
      }
    });
}
