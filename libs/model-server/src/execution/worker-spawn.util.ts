import { readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SWC_REQUIRE_OPTIONS } from './typescript-require.util';
import type { WorkerInit } from './worker-messages.interface';

/**
 * Run when the library itself runs from its TypeScript sources (tests, `ts-node`-style setups): the worker
 * compiles `.ts` files with swc as it requires them, and `nest-model-server` resolves to those same sources,
 * so the model's base class and the worker's runtime are one copy of the library.
 */
const SOURCE_BOOTSTRAP = `
'use strict';
const { workerData } = require('node:worker_threads');
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const boot = workerData.boot;
const swc = require(boot.swcPath);
require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const out = swc.transformSync(readFileSync(filename, 'utf8'), Object.assign({}, boot.swcOptions, { filename }));
  module._compile(out.code, filename);
};
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveAlias(request, parent, isMain, options) {
  const alias = Object.prototype.hasOwnProperty.call(boot.aliases, request) ? boot.aliases[request] : request;
  return resolveFilename.call(this, alias, parent, isMain, options);
};
require(boot.entry);
`;

/**
 * Starts a worker thread that loads a model (see `model-worker.entry`). From compiled JavaScript the entry
 * file runs directly; from TypeScript sources a small bootstrap compiles on the fly.
 *
 * @internal
 */
export function spawnModelWorker(init: WorkerInit): Worker {
  const ext = extname(__filename);
  const entry = join(__dirname, `model-worker.entry${ext}`);
  if (ext !== '.ts') return new Worker(entry, { workerData: { init } });
  const root = resolve(__dirname, '..');
  const boot = {
    entry,
    swcPath: require.resolve('@swc/core'),
    swcOptions: SWC_REQUIRE_OPTIONS,
    aliases: sourceEntries(resolve(root, '..', '..', '..')),
  };
  return new Worker(SOURCE_BOOTSTRAP, { eval: true, workerData: { init, boot } });
}

/** From the sources the library sits in its repository: each entry of package.json "exports" to its `.ts` file. */
function sourceEntries(project: string): Record<string, string> {
  const { exports } = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> };
  return Object.fromEntries(
    Object.entries(exports).map(([subpath, target]) => [
      `nest-model-server${subpath.slice(1)}`,
      join(project, target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')),
    ]),
  );
}
