// The API floor of the shipped bundle: no Node or ECMAScript built-in newer than
// the oldest runtime a package ships (el6: Node 10.24.1, scripts/rpm/releases.json).
// Syntax is not checked here: esbuild lowers it to that target (scripts/dev/bundle.js)
// and fails the build on anything it cannot lower. Run: npx eslint
// (test/packaging/api-floor.test.ts runs it over src/ and over the production
// dependencies that the bundle carries).
import { readFileSync } from 'node:fs';
import n from 'eslint-plugin-n';
import tseslint from 'typescript-eslint';

const releases = JSON.parse(readFileSync(new URL('./scripts/rpm/releases.json', import.meta.url), 'utf8'));
const floor = `>=${releases.el6.node}`;
// built-ins that src/compat/node10.ts fills in for the bundle (its POLYFILLED list)
const polyfilled = ['fs.rmSync', 'util.getSystemErrorMap'];
const rules = {
  'n/no-unsupported-features/node-builtins': ['error', { version: floor, allowExperimental: false, ignores: polyfilled }],
  'n/no-unsupported-features/es-builtins': ['error', { version: floor }],
};

export default [
  { linterOptions: { reportUnusedDisableDirectives: 'off' } },
  { ignores: ['dist/**', 'build/**', '.cache/**', 'coverage/**', 'bench/**'] },
  {
    files: ['src/**/*.ts'],
    languageOptions: { parser: tseslint.parser, sourceType: 'module' },
    plugins: { n, '@typescript-eslint': tseslint.plugin },
    rules,
  },
  // the production dependencies inside the bundle (their own eslint comments are not ours to honour)
  {
    files: ['node_modules/**/*.js', 'node_modules/**/*.cjs', 'node_modules/**/*.mjs'],
    languageOptions: { sourceType: 'commonjs', ecmaVersion: 'latest' },
    linterOptions: { noInlineConfig: true },
    plugins: { n },
    rules,
  },
  { files: ['node_modules/**/esm*/**/*.js', 'node_modules/**/*.mjs'], languageOptions: { sourceType: 'module' } },
];
