import { readFileSync } from 'node:fs';
import type { Options as SwcOptions } from '@swc/core';

/**
 * How model files written in TypeScript are compiled on `require`: swc, CommonJS output, decorators and
 * their metadata included (class-validator and Nest need them). Plain data, so a worker thread can get it.
 *
 * @internal
 */
export const SWC_REQUIRE_OPTIONS: SwcOptions = {
  sourceMaps: 'inline',
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
};

let registered = false;

/**
 * Lets `require` load TypeScript model files in this thread: each `.ts` file is compiled with swc when it
 * is first required. Serving compiled JavaScript never needs it (the compiler is loaded only here).
 * Worker threads that load a TypeScript model call it too.
 *
 * @publicApi
 */
export function registerTypeScript(): void {
  if (registered) return;
  registered = true;
  const swc = require('@swc/core') as typeof import('@swc/core');
  const extensions = require.extensions as NodeJS.RequireExtensions;
  if (extensions['.ts'] !== undefined) return; // a hook is already there (ts-node, jest, a worker's bootstrap)
  extensions['.ts'] = (module, filename) => {
    const { code } = swc.transformSync(readFileSync(filename, 'utf8'), { ...SWC_REQUIRE_OPTIONS, filename });
    (module as unknown as { _compile(code: string, filename: string): void })._compile(code, filename);
  };
}
