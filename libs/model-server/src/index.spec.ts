import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as root from './index';

/**
 * The public surface: the root entry's size, and the subpath entries wired the same way everywhere.
 * Values are counted from the loaded module (Object.keys), type-only exports from the entry's source text
 * (`export type { ... }` lists and `type X` members of `export { ... }`), since types leave nothing at run time.
 */
const LIB = __dirname;
const ROOT = join(LIB, '..', '..', '..');

function typeOnlyExports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const names: string[] = [];
  for (const m of text.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
    for (const raw of m[2].split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      if (m[1] !== undefined || item.startsWith('type ')) names.push(item.replace(/^type\s+/, '').split(/\s+as\s+/).pop()!);
    }
  }
  if (/export\s+\*/.test(text)) throw new Error(`${file}: "export *" hides what the entry exports; list the names`);
  return names;
}

const entries = Object.entries(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).exports as Record<string, { default: string; types: string }>);
const sourceOf = (target: string) => join(ROOT, target.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'));

describe('the public surface', () => {
  it('the root entry exports at most 60 names, values and types together', () => {
    const values = Object.keys(root);
    const types = typeOnlyExports(join(LIB, 'index.ts'));
    expect(values.length).toBeGreaterThan(10);
    expect(types.length).toBeGreaterThan(10);
    expect(values.length + types.length).toBeLessThanOrEqual(60);
    expect(values).not.toContain('default');
  });

  it('internals reach no public entry', async () => {
    const internal = ['NO_OBSERVER', 'inProcessExecutor', 'seededRandom', 'valueJson', 'mlrunWhen', 'RecordQueue', 'EventSampler', 'parseRouterMembers', 'ROUTER_CLASSES', 'routerClass', 'loadModelClass', 'loadModelFolder', 'isModelFolder', 'parseYamlQuietly', 'shareServerPackages', 'registerTypeScript', 'PinoLogger', 'RequestLogSubscriber', 'MODEL_SERVER_VERSION', 'RESOLVED_OPTIONS', 'MODEL_SERVER_OPTIONS', 'GRPC_MODULE_OPTIONS', 'SAGEMAKER_MODULE_OPTIONS', 'HttpErrorFilter'];
    for (const [, target] of entries) {
      const exported = Object.keys((await import(sourceOf(target.default))) as object);
      expect({ entry: target.default, leaked: exported.filter((n) => internal.includes(n)) }).toEqual({ entry: target.default, leaked: [] });
    }
  });

  it('every subpath of package.json "exports" has a source entry, a tsconfig path and a jest mapping; the private entry none', async () => {
    const paths = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')).compilerOptions.paths as Record<string, string[]>;
    const { moduleNameMapper: mapper } = (await import(join(ROOT, 'jest.config.js'))) as { moduleNameMapper: Record<string, string> };
    expect(entries.map(([subpath]) => subpath).sort()).toEqual(['.', './grpc', './integrations', './monitoring', './onnx', './routing', './sagemaker', './testing']);
    for (const [subpath, target] of entries) {
      const name = `nest-model-server${subpath.slice(1)}`;
      const folder = sourceOf(target.default).replace(/\/index\.ts$/, '');
      expect(existsSync(sourceOf(target.default))).toBe(true);
      expect(target.types).toBe(target.default.replace(/\.js$/, '.d.ts'));
      expect(paths[name]?.map((p) => join(ROOT, p))).toEqual([folder]);
      expect(mapper[`^${name}$`]).toBe(folder.replace(ROOT, '<rootDir>'));
    }
    expect(Object.keys(paths).some((p) => p.includes('internal'))).toBe(false);
  });
});
