import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Arrows one way (README "Architecture"): a folder of src/ imports only folders to its left in
// LAYERS; src/ never imports bench/ or test/; bench/ never imports test/. Sharp, onnxruntime-node
// and the database drivers each have one home.
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
  'http',
  'main', // main.ts (composition root) and index.ts (library API)
  'cli',
];
const PACKAGE_HOMES = {
  sharp: 'image',
  'onnxruntime-node': 'inference/worker',
  kysely: 'repositories',
  'better-sqlite3': 'repositories',
  pg: 'repositories',
};

/** A relative import of src/<name> (folder or name.js) from anywhere inside src/. */
const layerImport = (names) => `^(\\./|(\\.\\./)+)(${names.join('|')})(/|\\.js$)`;
const outOfSrc = { regex: '^(\\.\\./)+(bench|test)/', message: 'The product does not import bench/ or test/.' };

/** no-restricted-imports for files of `layer` living in `folder` (e.g. src/inference/worker). */
function restrictions(layer, folder, extra = []) {
  const at = LAYERS.indexOf(layer);
  const patterns = [outOfSrc, ...extra];
  if (at < LAYERS.length - 1) {
    patterns.push({
      regex: layerImport(LAYERS.slice(at + 1)),
      message: `src/${layer} imports only what is to its left (${LAYERS.slice(0, at).join(', ')}).`,
    });
  }
  const paths = Object.entries(PACKAGE_HOMES)
    .filter(([, home]) => !`${folder}/`.startsWith(`src/${home}/`))
    .map(([name, home]) => ({ name, message: `Only src/${home}/ imports ${name}.` }));
  return { 'no-restricted-imports': ['error', { paths, patterns }] };
}

const filesOf = (layer) =>
  layer === 'main' ? ['src/main.ts', 'src/index.ts'] : layer === 'errors' ? ['src/errors.ts'] : [`src/${layer}/**`];

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
