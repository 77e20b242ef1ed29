// `npm run lint`: the recommended rules of ESLint and typescript-eslint over libs/, src/, test/ and samples/.
// Syntax rules only: type-aware rules need the TypeScript JS API, which the compiler the project builds with
// (TypeScript 7, the `typescript-native` package) does not have; `typescript` 6 is installed for the parser alone.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// A leading `_` marks a deliberately unused parameter or binding (a base hook's signature, a skipped element).
const unused = { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' };

export default defineConfig(
  { ignores: ['dist/', 'coverage/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: ['{libs,src,test,samples}/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', unused],
    },
  },
  {
    // In Node these three globals are accessors: optimized code calls their getter (a global-load inline cache and a
    // function call, 10-15 ns) on every use, where a module binding is one constant load. The server imports them.
    files: ['{libs,src}/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: "import { Buffer } from 'node:buffer' (the global is an accessor, called on every use)" },
        { name: 'performance', message: "import { performance } from 'node:perf_hooks' (the global is an accessor, called on every use)" },
        { name: 'process', message: "import process from 'node:process' (the global is an accessor, called on every use)" },
      ],
    },
  },
  {
    // Tests read parsed JSON answers, records and protobuf objects by path; typing each shape would only restate it.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Model files are loaded, and swc (the TypeScript compiler for them) is loaded on first use, through `require`:
    // synchronous, and it goes through the require hooks of swc and of jest.
    // A model worker thread loads the trace SDK the same way, only when the server traces; the CLI loads the server
    // only once it knows it is not a launcher (src/gc-threads.ts), and the trace SDK only when tracing is configured; the
    // Redis client only when a Redis sink starts.
    files: [
      'src/cli.ts',
      'src/serve-command.ts',
      'libs/model-server/src/execution/model-class.loader.ts',
      'libs/model-server/src/execution/typescript-require.util.ts',
      'libs/model-server/src/execution/model-worker.entry.ts',
      'libs/model-server/src/monitoring/sinks/redis-stream.sink.ts',
    ],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Node scripts: the benchmarks, test helpers run as child processes, the samples' training scripts.
    files: ['{libs,src,test,samples}/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: {
      'no-unused-vars': ['error', unused],
    },
  },
);
