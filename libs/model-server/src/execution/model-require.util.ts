import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, extname, join, relative, isAbsolute } from 'node:path';

/** The package this library ships in, and where `nest-model-server` and its subpath entries are in this copy. */
interface ServerPackage {
  /** The folder holding the package's package.json (its node_modules beside it hold the server's packages). */
  root: string;
  /** `nest-model-server`, `nest-model-server/onnx`, ... → the file of this running copy. */
  entries: Map<string, string>;
}

const PACKAGE_NAME = 'nest-model-server';

/**
 * Finds the package this file belongs to (walking up to the package.json named `nest-model-server`) and maps
 * its "exports" to this running copy: the compiled `.js` entries, or the `.ts` sources when the library runs
 * from its sources (tests, the repository's launcher).
 */
function findServerPackage(): ServerPackage | undefined {
  const fromSources = extname(__filename) === '.ts';
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; exports?: Record<string, string | { default?: string }> };
      if (pkg.name === PACKAGE_NAME) {
        const entries = new Map<string, string>();
        for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
          const file = typeof target === 'string' ? target : target.default;
          if (file === undefined) continue;
          const path = fromSources ? file.replace(/^\.\/dist\//, './').replace(/\.js$/, '.ts') : file;
          entries.set(`${PACKAGE_NAME}${subpath.slice(1)}`, join(dir, path));
        }
        return { root: dir, entries };
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

type ResolveFilename = (request: string, parent: NodeJS.Module | undefined, isMain: boolean, options?: { paths?: string[] }) => string;

let installed = false;

/** True for `lodash`, `@scope/pkg/sub`; false for `./x`, `../x`, `/abs`, `node:fs`. */
function isBareSpecifier(request: string): boolean {
  return !request.startsWith('.') && !isAbsolute(request) && !request.startsWith('node:');
}

function inside(folder: string, file: string): boolean {
  const rel = relative(folder, file);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Lets model code that lives outside the server's package (a model folder under `/mnt/models`, a folder mounted
 * into a container, a temporary folder) resolve what a model inside the project would:
 *
 * - `nest-model-server` and its subpath entries are always this running copy of the library, so a model's
 *   `ModelServer` base class is the server's own (a second copy would not be recognised as a model class);
 * - any other package the model's own folders do not provide (no `node_modules` beside or above it has it) is
 *   looked up among the packages installed with the server. A model folder with its own `node_modules` keeps
 *   its own versions of what it installed there.
 *
 * Files inside the server's package resolve exactly as before. Installed once per thread (the CLI's model loader
 * and each model worker thread call it through {@link loadModelClass}).
 *
 * @internal
 */
export function shareServerPackages(): void {
  if (installed) return;
  installed = true;
  const server = findServerPackage();
  if (server === undefined) return;
  const modules = Module as unknown as { _resolveFilename: ResolveFilename };
  const resolveFilename = modules._resolveFilename;
  const serverPaths = [server.root];
  modules._resolveFilename = function resolveForModels(this: unknown, request, parent, isMain, options) {
    const from = parent?.filename;
    if (typeof from !== 'string' || inside(server.root, from)) return resolveFilename.call(this, request, parent, isMain, options);
    const own = server.entries.get(request);
    if (own !== undefined) return own;
    try {
      return resolveFilename.call(this, request, parent, isMain, options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !isBareSpecifier(request)) throw err;
      try {
        return resolveFilename.call(this, request, parent, isMain, { paths: serverPaths });
      } catch {
        throw err; // the model's own resolution error names the paths it searched
      }
    }
  };
}
