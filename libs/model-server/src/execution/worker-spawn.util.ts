import { readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SWC_REQUIRE_OPTIONS } from './typescript-require.util';
import type { WorkerInit } from './worker-messages.interface';

/**
 * Run when the code runs from its TypeScript sources (tests, `ts-node`-style setups): the worker compiles `.ts`
 * files with swc as it requires them, and `nest-model-server` resolves to those same sources, so the model's base
 * class and the worker's runtime are one copy of the library.
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
 * Starts a worker thread that loads a model (see `model-worker.entry`).
 *
 * @internal
 */
export function spawnModelWorker(init: WorkerInit): Worker {
  return spawnWorkerThread(join(__dirname, `model-worker.entry${extname(__filename)}`), { init });
}

/**
 * Starts a worker thread running `entry` with `workerData`. A compiled `.js` entry runs directly; a `.ts` one (the
 * repository's tests and the CLI run from source) through a small bootstrap that compiles TypeScript with swc as it
 * is required, with `nest-model-server` resolving to the library's sources, so that the thread and its parent share
 * one copy of the library. The bootstrap takes `workerData.boot` for itself.
 *
 * @internal
 */
export function spawnWorkerThread(entry: string, workerData: Record<string, unknown>): Worker {
  if (extname(entry) !== '.ts') return new Worker(entry, { workerData });
  const boot = {
    entry,
    swcPath: require.resolve('@swc/core'),
    swcOptions: SWC_REQUIRE_OPTIONS,
    aliases: sourceEntries(resolve(__dirname, '..', '..', '..', '..')),
  };
  return new Worker(SOURCE_BOOTSTRAP, { eval: true, workerData: { ...workerData, boot } });
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
