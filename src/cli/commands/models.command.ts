import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { toFaceembedError } from '../../errors.js';
import { modelVersions, prepareAll } from '../../models/prepare.js';
import { ModelRegistry, modelSource } from '../../models/registry.js';
import { SOURCES } from '../../models/sources.js';

/** How a deployment moves its stored vectors to a model's current weights (sessions and identify refuse mixed versions). */
const REEMBED_NOTE =
  'Stored embeddings keep the model version that made them; sessions and identify refuse to compare two versions. ' +
  'After a model upgrade, or when an alias moves to another network (arcface: hse-faceres -> faceplugin-mobilefacenet512), ' +
  're-embed the stored faces: faceembed reembed --model NAME --job (or POST /api/attendance/jobs/ ' +
  '{"kind": "generate-embeddings", "all": true, "model_name": "NAME"}).\n';

async function list(json: boolean): Promise<void> {
  const registry = ModelRegistry.load(loadConfig().modelsConfig);
  const versions = await modelVersions(registry);
  const rows = registry.specs.map((s) => ({
    name: s.name,
    aliases: s.aliases,
    dimensions: s.dimensions,
    input_size: s.input.size,
    threshold: s.threshold,
    // null for a model whose threshold was not chosen at a measured false-accept rate (a user model).
    threshold_far: s.thresholdFar ?? null,
    size_thresholds: (s.sizeBands ?? []).map((b) => ({
      below_width: b.belowWidth,
      threshold: b.threshold,
      far: b.far ?? null,
    })),
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
      `${r.name.padEnd(28)} aliases=${r.aliases.join(',') || '-'} ${r.dimensions}-D input=${r.input_size} threshold=${r.threshold}${r.threshold_far === null ? '' : ` (FAR ${r.threshold_far})`} version=${r.version}\n` +
        `${''.padEnd(28)} small faces: ${r.size_thresholds.map((b) => `<${b.below_width} px ${b.threshold}`).join(', ') || '-'}${r.size_thresholds.some((b) => b.far !== null) ? ` (FAR ${r.size_thresholds[0]!.far})` : ''}\n` +
        `${''.padEnd(28)} source: ${r.source}\n${''.padEnd(28)} licence: ${r.licence}\n`,
    );
  }
  // The detectors are built-in networks too; their licences matter as much.
  const embedders = new Set(registry.specs.map((s) => (s.origin.kind === 'builtin' ? s.origin.sourceId : '')));
  for (const s of Object.values(SOURCES).filter((s) => !embedders.has(s.id))) {
    process.stdout.write(
      `${s.id.padEnd(28)} detector\n${''.padEnd(28)} source: ${s.package}\n${''.padEnd(28)} licence: ${s.licence ?? 'not stated'}\n`,
    );
  }
  process.stdout.write(`\n${REEMBED_NOTE}`);
}

export function registerModels(program: Command): void {
  const models = program.command('models').description('The model registry');
  models
    .command('list', { isDefault: true })
    .description('List the registered models')
    .option('--json', 'JSON array')
    .action((flags: { json?: boolean }) => list(Boolean(flags.json ?? models.opts<{ json?: boolean }>().json)));
  // `faceembed models --json` (docs/cli.md) reaches the default subcommand with the flag.
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
      try {
        await prepareAll(modelsDir, (f) => {
          if (!flags.quiet || f.created)
            process.stderr.write(`${f.created ? 'prepared' : 'up to date'} ${f.path} (${Math.round(f.ms)} ms)\n`);
        });
      } catch (err) {
        // A missing or altered model file: its typed error, no stack trace (it is the user's to fix).
        const e = toFaceembedError(err);
        process.stderr.write(
          `${JSON.stringify({ error: { type: e.type, message: e.message, details: e.details } })}\n`,
        );
        process.exitCode = 1;
        return;
      }
      if (!flags.quiet)
        process.stderr.write(`models ready in ${modelsDir} (${Math.round(performance.now() - started)} ms)\n`);
    });
}
