// Verification accuracy of the built-in models. On LFW dev (--lfw, bench/parts/lfw-run.ts): the
// 10-fold protocol, TAR at FAR over every pair of dev photos, the thresholds chosen at a
// false-accept rate (model and size bands), open-set identification and the levers; a ROC image.
// On the deepface-unit pairs (--data; master.csv, face-recognition-pivot.csv): with alignment
// (detect 'auto') and without (detect 'skip'), next to DeepFace's own Facenet distances.
// Writes docs/accuracy.md (each part replaces its own, the other is kept), the LFW section of
// docs/identification.md, and prints the tables and a JSON summary.
// The deepface-unit part lives in bench/parts/deepface-unit-*.ts (run measures, report writes the
// document, json the summary), the LFW part in bench/parts/lfw-*.ts; this file reads the flags and
// writes the documents.
// Run: npm run bench:accuracy -- --data ../shared/datasets/deepface-unit --lfw ../shared/datasets/lfw-dev
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { deepfaceUnitJson } from './parts/deepface-unit-json.js';
import { deepfaceUnitDocument, resultsTable } from './parts/deepface-unit-report.js';
import { runDeepfaceUnit } from './parts/deepface-unit-run.js';
import { carrySections, section, withSection } from './parts/doc-sections.js';
import { lfwJson } from './parts/lfw-json.js';
import {
  LFW_SECTION,
  ROC_IMAGE,
  lfwAccuracySection,
  lfwIdentificationSection,
  withIdentificationSection,
} from './parts/lfw-report.js';
import { rocImage } from './parts/lfw-roc.js';
import { LFW_MODELS, runLfw, type LfwRun } from './parts/lfw-run.js';

const machine = () => {
  const cpus = os.cpus();
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${os.platform()} ${os.release()}`;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      lfw: { type: 'string' },
      'lfw-models': { type: 'string', default: LFW_MODELS.join(',') },
      /** Leaves out the flip-averaging lever (a second embedding pass of every photo). */
      'lfw-skip-flip': { type: 'boolean', default: false },
      /** Leaves out the channel-order check (a second embedding pass with RGB and BGR swapped). */
      'lfw-skip-channel-order': { type: 'boolean', default: false },
      out: { type: 'string', default: 'docs/accuracy.md' },
      'id-out': { type: 'string', default: 'docs/identification.md' },
      workers: { type: 'string', default: '2' },
    },
  });
  if (!values.data && !values.lfw)
    throw new Error(
      '--data DIR (the deepface-unit folder) or --lfw DIR (the lfw-dev folder) is required, e.g. --data ../shared/datasets/deepface-unit --lfw ../shared/datasets/lfw-dev',
    );
  const command = `npm run bench:accuracy -- ${process.argv.slice(2).join(' ')}`;
  const old = await readFile(values.out, 'utf8').catch(() => '');
  // LFW first: it decides the shipped thresholds; its sections are written as soon as they are measured.
  let lfwSection: string | undefined;
  if (values.lfw) {
    const run = await runLfw(path.resolve(values.lfw), Number(values.workers), values['lfw-models'].split(','), {
      flip: !values['lfw-skip-flip'],
      channelOrder: !values['lfw-skip-channel-order'],
    });
    lfwSection = section(LFW_SECTION, lfwAccuracySection(run, command, machine()));
    await writeFile(values.out, withSection(old, LFW_SECTION, lfwSection).trimEnd() + '\n');
    await rocImage(run, path.join(path.dirname(values.out), ROC_IMAGE));
    const ids = await readFile(values['id-out'], 'utf8').catch(() => '');
    await writeFile(values['id-out'], withIdentificationSection(ids, lfwIdentificationSection(run, command)));
    printLfw(run);
  }
  if (!values.data) return;
  const doc = await deepface(values.data, values.workers, command);
  const current = await readFile(values.out, 'utf8').catch(() => '');
  await writeFile(
    values.out,
    (lfwSection ? withSection(doc, LFW_SECTION, lfwSection) : carrySections(current, doc, [LFW_SECTION])).trimEnd() +
      '\n',
  );
}

function printLfw(run: LfwRun): void {
  console.log(JSON.stringify(lfwJson(run), null, 2));
}

/** The deepface-unit part of the document (its LFW section left empty for main to fill or carry). */
async function deepface(data: string, workers: string, command: string): Promise<string> {
  const run = await runDeepfaceUnit(path.resolve(data), Number(workers));
  const doc = deepfaceUnitDocument(run, { command, machine: machine(), workers });
  console.log(resultsTable(run.evals, run.reference));
  console.log(JSON.stringify(deepfaceUnitJson(run, command), null, 2));
  return doc;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
