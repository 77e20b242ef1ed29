import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { isModelClass, type ModelClass } from '../model/model-server';
import { shareServerPackages } from './model-require.util';
import { registerTypeScript } from './typescript-require.util';

/** The extensions a model module may have, in the order a path without one tries them. @internal */
export const MODEL_MODULE_EXTENSIONS = ['.js', '.cjs', '.ts'];

const EXTENSIONS = ['', ...MODEL_MODULE_EXTENSIONS];

/** A model class and where it came from. @publicApi */
export interface LoadedModelClass {
  model: ModelClass;
  /** The module file, resolved. */
  file: string;
  /** The export's name. */
  className: string;
}

/** The module file: the path as given, or with a `.js`, `.cjs` or `.ts` extension. */
function findModule(path: string): string {
  for (const ext of EXTENSIONS) {
    const candidate = path + ext;
    if (existsSync(candidate) && (ext !== '' || extname(path) !== '')) return candidate;
  }
  throw new Error(`cannot find model module ${path} (tried ${EXTENSIONS.filter(Boolean).join(', ')})`);
}

/**
 * Loads a model class from a compiled JavaScript or a TypeScript module (compiled on load with swc).
 * The CLI loads configured models with it, and worker threads load their copy of the model with it. A module
 * outside the server's package resolves `nest-model-server` and the server's installed packages as one inside
 * would (see {@link shareServerPackages}).
 *
 * @param modulePath the file, absolute or relative to the working directory, with or without extension
 * @param className the exported class; defaults to the module's only ModelServer subclass
 * @publicApi
 */
export function loadModelClass(modulePath: string, className?: string): LoadedModelClass {
  const file = findModule(resolve(modulePath));
  shareServerPackages();
  if (file.endsWith('.ts')) registerTypeScript();
  const exports = require(file) as Record<string, unknown>;
  if (className !== undefined) {
    const found = exports[className];
    if (!isModelClass(found)) throw new Error(`${file} exports no ModelServer subclass named '${className}'`);
    return { model: found, file, className };
  }
  const candidates = Object.entries(exports).filter(([, value]) => isModelClass(value));
  if (candidates.length !== 1) {
    throw new Error(`${file} exports ${candidates.length} ModelServer subclasses; name one with "class"`);
  }
  return { model: candidates[0][1] as ModelClass, file, className: candidates[0][0] };
}
