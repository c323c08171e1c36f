import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Arrows one way (docs/development.md "Architecture"): a folder of src/ imports only folders to its left in
// LAYERS; src/ never imports bench/ or test/; bench/ never imports test/. Sharp, onnxruntime-node,
// the database drivers and the Redis clients each have their home.
const LAYERS = [
  'errors',
  'config',
  'logging',
  'domain',
  'image',
  'detect',
  'models',
  'inference',
  'repositories',
  'services',
  'queue', // adapters behind the services' ports: the BullMQ job engine, the change buses
  'http',
  'main', // main.ts and jobs.ts (composition root), index.ts (library API)
  'cli',
];
const PACKAGE_HOMES = {
  sharp: ['image'],
  'onnxruntime-node': ['inference/worker'],
  kysely: ['repositories'],
  'better-sqlite3': ['repositories'],
  // queue/: the LISTEN/NOTIFY change bus holds its own connection, outside Kysely.
  pg: ['repositories', 'queue'],
  bullmq: ['queue'],
  ioredis: ['queue'],
};

/** Layers a folder may not import although they sit to its left. */
const SKIPPED = {
  // An adapter of the services' ports: it knows no images, detectors, models or workers.
  queue: ['image', 'detect', 'models', 'inference'],
  // Routes reach the job engine through the JobService port only.
  http: ['queue'],
};

/** A relative import of src/<name> (folder or name.js) from anywhere inside src/; src/jobs.ts is of main. */
const layerImport = (names) =>
  `^(\\./|(\\.\\./)+)((${names.join('|')})(/|\\.js$)${names.includes('main') ? '|jobs\\.js$' : ''})`;
const outOfSrc = { regex: '^(\\.\\./)+(bench|test)/', message: 'The product does not import bench/ or test/.' };

/** no-restricted-imports for files of `layer` living in `folder` (e.g. src/inference/worker). */
function restrictions(layer, folder, extra = []) {
  const at = LAYERS.indexOf(layer);
  const skipped = SKIPPED[layer] ?? [];
  const allowed = LAYERS.slice(0, at).filter((l) => !skipped.includes(l));
  const patterns = [outOfSrc, ...extra];
  const refused = [...LAYERS.slice(at + 1), ...skipped];
  if (refused.length) {
    patterns.push({
      regex: layerImport(refused),
      message: `src/${layer} imports only ${allowed.join(', ')}.`,
    });
  }
  const paths = Object.entries(PACKAGE_HOMES)
    .filter(([, homes]) => !homes.some((home) => `${folder}/`.startsWith(`src/${home}/`)))
    .map(([name, homes]) => ({ name, message: `Only ${homes.map((h) => `src/${h}/`).join(' and ')} import ${name}.` }));
  return { 'no-restricted-imports': ['error', { paths, patterns }] };
}

const filesOf = (layer) =>
  layer === 'main'
    ? ['src/main.ts', 'src/jobs.ts', 'src/index.ts']
    : layer === 'errors'
      ? ['src/errors.ts']
      : [`src/${layer}/**`];

const layerBlocks = [
  ...LAYERS.map((layer) => ({ files: filesOf(layer), rules: restrictions(layer, `src/${layer}`) })),
  { files: ['src/inference/worker/**'], rules: restrictions('inference', 'src/inference/worker') },
  {
    // The generic pool knows nothing of faceembed's tasks (inference/protocol.ts) or its worker.
    files: ['src/inference/pool/**'],
    rules: restrictions('inference', 'src/inference/pool', [
      {
        regex: '^(\\.\\./)+(?!\\.\\./|errors\\.js$)',
        message: 'inference/pool/ is generic: it imports only errors.ts and its own folder.',
      },
    ]),
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'data/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read the environment only in src/config/.',
        },
      ],
    },
  },
  {
    files: ['src/config/**', 'test/**', 'bench/**', 'bin/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  ...layerBlocks,
  {
    files: ['bench/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+test/', message: 'bench/ does not import test/.' }] },
      ],
    },
  },
  {
    // The web app may see the server's route schemas as types only: nothing of the server
    // (node:*, sharp, kysely) can end up in the browser bundle.
    files: ['web/src/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/**', 'node:*'],
              allowTypeImports: true,
              message: 'The web app imports server code as types only (import type …).',
            },
          ],
        },
      ],
    },
  },
);
