// `faceembed enrol DIR [--group NAME]`: one sub-folder per person (folder name = external_id
// and name), every image in it an enrolment photo (its largest face). A photo whose bytes the
// person already has is skipped, so a re-run adds only what is new.
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { toFaceembedError } from '../../errors.js';
import { createLogger } from '../../logging/logger.js';
import { openServices } from '../../main.js';
import { openDatabase } from '../../repositories/database.js';
import { migrate } from '../../repositories/migrate.js';
import { EmbeddingService } from '../../services/embedding.service.js';
import { progressLine } from './progress.js';

const IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|avif|heic)$/i;

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

export function registerEnrol(program: Command): void {
  program
    .command('enrol')
    .description('Enrol persons from DIR: one sub-folder per person (its name = external_id and name)')
    .argument('<dir>', 'folder of person folders')
    .option('--group <name>', 'also make every person a member of this group (created if missing)')
    .action(async (dir: string, flags: { group?: string }) => {
      const config = loadConfig();
      const root = path.resolve(dir);
      const folders = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
      const work: { person: string; file: string }[] = [];
      for (const person of folders.sort()) {
        const files = (await readdir(path.join(root, person), { withFileTypes: true }))
          .filter((e) => e.isFile() && IMAGE_EXT.test(e.name))
          .map((e) => path.join(root, person, e.name))
          .sort();
        for (const file of files) work.push({ person, file });
      }
      const db = openDatabase(config.databaseUrl);
      const embedder = new EmbeddingService({ config, logger: createLogger('warn'), preload: 'all' });
      let opened: Awaited<ReturnType<typeof openServices>> | undefined;
      try {
        await migrate(db);
        opened = await openServices({ db, embedder, config, logger: createLogger('warn') });
        const { persons, faceCrops, groups } = opened.services;
        const group = flags.group
          ? ((await groups.findByKey(flags.group)) ?? (await groups.create({ name: flags.group })))
          : undefined;
        const summary = { persons: 0, enrolled: 0, skipped: 0, failed: 0 };
        const failures: { file: string; type: string; message: string }[] = [];
        const progress = progressLine('enrolling', work.length);
        let current: { name: string; id: number; known: Set<string> } | undefined;
        for (const { person, file } of work) {
          try {
            if (current?.name !== person) {
              const p = await persons.ensure(person);
              const faces = await persons.listFaces(p.id, { page: 1, pageSize: 1000 });
              current = { name: person, id: p.id, known: new Set(faces.crops.map((c) => c.sha256)) };
              summary.persons++;
              if (group) await groups.addMembers(group.id, [p.id]);
            }
            const digest = await sha256(file);
            if (current.known.has(digest)) {
              summary.skipped++;
            } else {
              const staged = await faceCrops.stageUpload(createReadStream(file));
              await persons.enrolUpload(current.id, staged);
              current.known.add(digest);
              summary.enrolled++;
            }
          } catch (err) {
            const e = toFaceembedError(err);
            summary.failed++;
            failures.push({ file: path.relative(root, file), type: e.type, message: e.message });
          }
          progress.tick();
        }
        progress.done();
        process.stdout.write(
          `${JSON.stringify({ ...summary, ...(group && { group: { id: group.id, name: group.name } }), failures }, null, 2)}\n`,
        );
        if (summary.failed > 0) process.exitCode = 1;
      } finally {
        await opened?.close();
        await embedder.close();
        await db.destroy();
      }
    });
}
