// Open-set identification on deepface-unit and search at scale; writes docs/identification.md.
// Identification: 9 people enrolled with k = 1 and 2 photos, their other photos identified,
// the other 4 people as strangers; top-1 (accepted and right), wrong person (accepted and
// wrong), strangers accepted, per model at its shipped threshold, per scoring rule and margin.
// Search at scale: each --scale spec on each of --distributions with the gallery's defaults, rows
// appended to --search-rows (docs/search-grid.jsonl, where bench/search-grid.ts adds the graph
// grid), the table rendered from that file.
// Run: npm run bench:identify -- [--data ../shared/datasets/deepface-unit] [--scale 10000x128,100000x128,1000000x128,100000x1024] [--distributions faces,uniform]
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cosineSimilarity, l2Normalize } from '../src/domain/vector.js';
import { createLogger } from '../src/logging/logger.js';
import { benchSearch, type SearchBenchResult } from '../src/search/search-bench.js';
import { EmbeddingService } from '../src/services/embedding.service.js';
import { benchHttpIdentify } from './identify-http.js';
import { IDENTITIES as GROUPS } from './parts/dataset.js';
import { load1 } from './parts/common.js';
import { sectionOf, writeSection } from './parts/doc-sections.js';
import { LFW_ID_SECTION } from './parts/lfw-report.js';
import { SEARCH_SECTION, searchSection, searchSummary } from './parts/search-table.js';

const ENROLLED = GROUPS.slice(0, 9);
const STRANGERS = GROUPS.slice(9);
const RULES = ['best face', 'mean of top two', 'mean embedding'] as const;
const MARGINS = [0, 0.01, 0.02, 0.05];

type Rule = (typeof RULES)[number];

function personScore(rule: Rule, faces: Float32Array[], q: Float32Array): number {
  const sims = faces.map((f) => cosineSimilarity(f, q)).sort((a, b) => b - a);
  if (rule === 'best face') return sims[0]!;
  if (rule === 'mean of top two') return sims.length > 1 ? (sims[0]! + sims[1]!) / 2 : sims[0]!;
  const mean = new Float32Array(q.length);
  for (const f of faces) {
    const n = l2Normalize(f);
    for (let i = 0; i < n.length; i++) mean[i]! += n[i]!;
  }
  return cosineSimilarity(mean, q);
}

interface Row {
  model: string;
  k: number;
  rule: Rule;
  margin: number;
  probes: number;
  top1: number;
  rank1: number;
  wrong: number;
  strangers: number;
  strangersAccepted: number;
}

async function identification(data: string): Promise<Row[]> {
  const service = new EmbeddingService({ logger: createLogger('warn'), preload: 'all' });
  const rows: Row[] = [];
  try {
    await service.ready();
    for (const model of ['facenet', 'arcface']) {
      const info = service.resolveModel(model);
      const emb = new Map<number, Float32Array>();
      for (const n of GROUPS.flat()) {
        emb.set(n, (await service.generateEmbedding(path.join(data, `img${n}.jpg`), { modelName: model })).embedding);
      }
      for (const k of [1, 2]) {
        const gallery = ENROLLED.map((g) => g.slice(0, k).map((n) => emb.get(n)!));
        const probes = ENROLLED.flatMap((g, person) => g.slice(k).map((n) => ({ person, q: emb.get(n)! })));
        const strangers = STRANGERS.flat().map((n) => ({ person: -1, q: emb.get(n)! }));
        for (const rule of RULES) {
          for (const margin of MARGINS) {
            const row: Row = {
              model,
              k,
              rule,
              margin,
              probes: probes.length,
              top1: 0,
              rank1: 0,
              wrong: 0,
              strangers: strangers.length,
              strangersAccepted: 0,
            };
            for (const { person, q } of [...probes, ...strangers]) {
              const scores = gallery
                .map((faces, p) => ({ p, s: personScore(rule, faces, q) }))
                .sort((a, b) => b.s - a.s);
              const [best, second] = scores;
              const accepted = best!.s >= info.threshold && best!.s - (second?.s ?? -1) >= margin;
              if (person < 0) {
                if (accepted) row.strangersAccepted++;
                continue;
              }
              if (best!.p === person) row.rank1++;
              if (accepted && best!.p === person) row.top1++;
              if (accepted && best!.p !== person) row.wrong++;
            }
            rows.push(row);
          }
        }
      }
    }
  } finally {
    await service.close();
  }
  return rows;
}

const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)}% (${n}/${d})`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: '../shared/datasets/deepface-unit' },
      scale: { type: 'string', default: '10000x128,100000x128,1000000x128,100000x1024' },
      out: { type: 'string', default: 'docs/identification.md' },
      queries: { type: 'string', default: '200' },
      'http-enrolled': { type: 'string', default: '10000' },
      distributions: { type: 'string', default: 'faces,uniform' },
      'search-rows': { type: 'string', default: 'docs/search-grid.jsonl' },
    },
  });
  const lines: string[] = ['# Identification: scoring rule and search at scale', ''];
  lines.push(`Made by \`npm run bench:identify -- --scale ${values.scale}\` (2 cores).`, '');

  const rows = await identification(path.resolve(values.data));
  lines.push('## Open-set identification (deepface-unit)', '');
  lines.push(
    '9 people enrolled with k photos (the first k of their README group), every other photo of theirs identified; ' +
      'the 4 smallest groups are strangers. Shipped thresholds. top-1 = accepted and right; wrong = accepted as ' +
      'another enrolled person; rank-1 = right person ranked first whatever the threshold; margin = best minus ' +
      'second person similarity required to accept.',
    '',
  );
  lines.push('| model | k | rule | margin | top-1 | wrong person | strangers accepted | rank-1 |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    lines.push(
      `| ${r.model} | ${r.k} | ${r.rule} | ${r.margin} | ${pct(r.top1, r.probes)} | ${pct(r.wrong, r.probes)} | ` +
        `${pct(r.strangersAccepted, r.strangers)} | ${pct(r.rank1, r.probes)} |`,
    );
  }
  lines.push(
    '',
    'The service scores a person by the mean of their two best faces, with no margin: src/domain/person-score.ts ' +
      'gives the rows of this table that chose it.',
  );
  process.stdout.write(`${lines.join('\n')}\n`);

  const [enrolN, probeN] = ENROLLED[0]!;
  const http = await benchHttpIdentify({
    enrolPhoto: path.resolve(values.data, `img${enrolN}.jpg`),
    probePhoto: path.resolve(values.data, `img${probeN}.jpg`),
    enrolled: Number(values['http-enrolled']),
  });
  lines.push('', '## Identify one face over HTTP', '');
  lines.push(
    `\`faceembed serve\` (SQLite, default pool) with ${http.enrolled} enrolled persons of one face each (img${enrolN} ` +
      "for the probe's person, synthetic vectors for the others); multipart identify of img" +
      `${probeN} cut to 160 px wide, one request at a time after 10 warm-ups, facenet.`,
    '',
    '| enrolled | requests | p50 ms | p99 ms | right person |',
    '|---|---|---|---|---|',
    `| ${http.enrolled} | ${http.requests} | ${http.p50_ms} | ${http.p99_ms} | ${http.right_person}/${http.requests} |`,
  );
  process.stdout.write(`${lines.slice(-1)[0]}\n`);

  const rowsFile = values['search-rows'];
  const results: SearchBenchResult[] = [];
  const measured = new Date().toISOString().slice(0, 10);
  for (const spec of values.scale.split(',').filter(Boolean)) {
    const [vectors, dims] = spec.split('x').map(Number) as [number, number];
    for (const distribution of values.distributions.split(',').filter(Boolean)) {
      const command = `npm run bench:identify -- --scale ${spec} --distributions ${distribution}`;
      for (const r of benchSearch({ vectors, dims, distribution, queries: Number(values.queries) })) {
        results.push(r);
        process.stdout.write(`${JSON.stringify(r)}\n`);
        await appendFile(rowsFile, `${JSON.stringify({ ...r, measured, command, load1: load1() })}\n`);
      }
    }
  }
  // The LFW open-set section belongs to bench:accuracy --lfw: kept as that run wrote it, before
  // "Search at scale" (which search-grid.ts re-renders to the end of the file).
  const lfw = sectionOf(await readFile(values.out, 'utf8').catch(() => ''), LFW_ID_SECTION);
  lines.push('', ...(lfw ? [lfw, ''] : []), ...searchSection(rowsFile));
  await writeFile(values.out, `${lines.join('\n')}\n`);
  await writeSection('docs/benchmarks.md', SEARCH_SECTION, searchSummary(rowsFile));
  process.stdout.write(`${JSON.stringify({ identification: rows, http, search: results })}\n`);
}

await main();
