'use strict';
/**
 * Runs the CLI from source (no build) for e2e tests that need a real process: TypeScript compiled on load by
 * swc, and 'nest-model-server' resolved to the library's source, as the jest config maps it.
 * Usage: node test/helpers/cli-launcher.js serve --config ... (same arguments as the CLI).
 */
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '..', '..');
const library = path.join(root, 'libs', 'model-server', 'src', 'index.ts');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolve.call(this, request === 'nest-model-server' ? library : request, ...rest);
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
