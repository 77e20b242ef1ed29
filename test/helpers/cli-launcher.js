'use strict';
/**
 * Runs the CLI from source (no build) for e2e tests that need a real process: TypeScript compiled on load by
 * swc, and 'nest-model-server' and its subpaths resolved to the library's source, as the jest config maps them.
 * Usage: node test/helpers/cli-launcher.js serve --config ... (same arguments as the CLI).
 */
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '..', '..');
// Each entry of package.json "exports" to its source: './dist/x/index.js' is './x/index.ts'.
const entries = new Map(
  Object.entries(require(path.join(root, 'package.json')).exports).map(([subpath, target]) => [
    `nest-model-server${subpath.slice(1)}`,
    path.join(root, target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')),
  ]),
);
// Only for the repository's own files: model files elsewhere (a model folder in a temporary directory) resolve the
// framework through the library's own rule for models outside the server (execution/model-require.util.ts).
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const own = typeof parent?.filename === 'string' && !path.relative(root, parent.filename).startsWith('..');
  return resolve.call(this, own ? (entries.get(request) ?? request) : request, parent, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
require(path.join(root, 'src', 'cli.ts'));
