import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * Checks the imports of the library against the layer table of docs/architecture.md, the one place the rule
 * "who may import whom" is written.
 */

const LIB = __dirname;
const REPO = resolve(LIB, '../../..');
const DOC = join(REPO, 'docs', 'architecture.md');

/**
 * Imports the table forbids that are allowed for a while, as `from -> to` (none today): an exception written
 * here must name a move under way. The test fails once an edge listed here is gone, or is one the table allows,
 * so the list cannot go stale.
 */
const KNOWN_EXCEPTIONS: readonly string[] = [];

/**
 * Rows of the table for folders about to be created (none today), so the table can lead the code; the test
 * fails once such a folder exists, so each name is dropped then.
 */
const PENDING_FOLDERS: readonly string[] = [];

/** One import from a file of one folder into another folder. */
interface Edge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

/** The rows of the layer table: folder → the folders it may import. */
function parseLayerTable(markdown: string): Map<string, Set<string>> {
  const start = markdown.indexOf('<!-- layer-table');
  if (start < 0) throw new Error('docs/architecture.md has no <!-- layer-table --> marker');
  const rows = new Map<string, Set<string>>();
  const lines = markdown.slice(start).split('\n').slice(1);
  for (const line of lines) {
    if (!line.startsWith('|')) {
      if (rows.size > 0) break;
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const folder = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (folder === undefined) continue; // the header and the separator
    if (cells.length !== 3) throw new Error(`layer table row for ${folder} has ${cells.length} cells, expected 3`);
    if (rows.has(folder)) throw new Error(`layer table has two rows for ${folder}`);
    rows.set(folder, new Set([...cells[2].matchAll(/`([^`]+)`/g)].map((m) => m[1])));
  }
  return rows;
}

/** The non-spec TypeScript files under `dir`. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every folder under `dir` that holds a source file, as a path relative to the library (`.` for the root). */
function foldersOf(files: readonly string[]): Set<string> {
  return new Set(files.map((f) => folderOf(dirname(f))));
}

function folderOf(dir: string): string {
  return relative(LIB, dir).split(sep).join('/') || '.';
}

/** The module specifiers a file imports: import/export … from, side-effect imports, `import()` and `require()`. */
function specifiersOf(text: string): string[] {
  const out: string[] = [];
  for (const re of [
    /^[ \t]*(?:import|export)\b[^'"`;]*?\bfrom[ \t]*['"]([^'"]+)['"]/gm,
    /^[ \t]*import[ \t]*['"]([^'"]+)['"]/gm,
    /\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ]) {
    for (const m of text.matchAll(re)) out.push(m[1]);
  }
  return out;
}

/** The file or folder (its `index.ts`) a relative specifier names, or undefined when neither exists. */
function resolveRelative(fromFile: string, specifier: string): { path: string; isFolder: boolean } | undefined {
  const target = resolve(dirname(fromFile), specifier);
  if (existsSync(`${target}.ts`)) return { path: `${target}.ts`, isFolder: false };
  if (existsSync(target) && statSync(target).isDirectory() && existsSync(join(target, 'index.ts'))) return { path: target, isFolder: true };
  if (existsSync(target) && statSync(target).isFile()) return { path: target, isFolder: false };
  return undefined;
}

/** The folder-to-folder imports of the library's files, and the imports that leave the library. */
function scan(files: readonly string[]): { edges: Edge[]; outside: string[]; unresolved: string[] } {
  const edges: Edge[] = [];
  const outside: string[] = [];
  const unresolved: string[] = [];
  for (const file of files) {
    const rel = relative(LIB, file).split(sep).join('/');
    if (rel === 'index.ts' || rel === 'internal.ts') continue; // the public barrel and the CLI's private entry re-export any folder
    const from = folderOf(dirname(file));
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      if (specifier === 'nest-model-server' || specifier.startsWith('nest-model-server/')) {
        outside.push(`${rel} imports the library by its package name: ${specifier}`);
        continue;
      }
      if (!specifier.startsWith('.')) continue; // a package
      const target = resolveRelative(file, specifier);
      if (target === undefined) {
        unresolved.push(`${rel}: ${specifier}`);
        continue;
      }
      const within = relative(LIB, target.path);
      if (within.startsWith('..')) {
        outside.push(`${rel} imports ${specifier}, outside the library`);
        continue;
      }
      const to = folderOf(target.isFolder ? target.path : dirname(target.path));
      if (to !== from) edges.push({ from, to, file: rel, specifier });
    }
  }
  return { edges, outside, unresolved };
}

function key(e: { from: string; to: string }): string {
  return `${e.from} -> ${e.to}`;
}

/** The imports the table does not allow, one line per folder pair with the files that make it. */
function violations(edges: readonly Edge[], table: ReadonlyMap<string, ReadonlySet<string>>, exceptions: readonly string[]): string[] {
  const bad = new Map<string, string[]>();
  for (const e of edges) {
    const allowed = table.get(e.from);
    if (allowed?.has(e.to) || exceptions.includes(key(e))) continue;
    const list = bad.get(key(e)) ?? [];
    list.push(`${e.file} (${e.specifier})`);
    bad.set(key(e), list);
  }
  return [...bad].map(([k, files]) => `${k}, not in the layer table: ${files.join(', ')}`).sort();
}

function isWithin(folder: string, parent: string): boolean {
  return parent === '.' ? false : folder.startsWith(`${parent}/`);
}

/**
 * The folder-level cycles: strongly connected components of more than one folder (Tarjan). An import between a
 * folder and its own subfolder does not count (one feature), nor do the known exceptions.
 */
function cycles(edges: readonly Pick<Edge, 'from' | 'to'>[], exceptions: readonly string[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (exceptions.includes(key(e)) || isWithin(e.from, e.to) || isWithin(e.to, e.from)) continue;
    if (!next.has(e.from)) next.set(e.from, new Set());
    if (!next.has(e.to)) next.set(e.to, new Set());
    next.get(e.from)!.add(e.to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

describe('the layer table (docs/architecture.md)', () => {
  const table = parseLayerTable(readFileSync(DOC, 'utf8'));
  const files = sourceFiles(LIB);
  const { edges, outside, unresolved } = scan(files);

  it('reads the table and the imports (a checker that sees nothing cannot fail)', () => {
    expect(table.size).toBeGreaterThan(20);
    expect(files.length).toBeGreaterThan(150);
    expect(edges.length).toBeGreaterThan(200);
    expect(unresolved).toEqual([]);
  });

  it('has one row for every folder of the library, and none for a folder that is gone', () => {
    const folders = foldersOf(files);
    expect([...folders].filter((f) => !table.has(f)).sort()).toEqual([]);
    expect([...table.keys()].filter((f) => !folders.has(f) && !PENDING_FOLDERS.includes(f)).sort()).toEqual([]);
    expect(PENDING_FOLDERS.filter((f) => folders.has(f)).map((f) => `${f} exists: remove it from PENDING_FOLDERS`)).toEqual([]);
    for (const [folder, allowed] of table) {
      expect([...allowed].filter((f) => !table.has(f)).map((f) => `${folder} may import unknown folder ${f}`)).toEqual([]);
    }
  });

  it('allows every import between folders', () => {
    expect(violations(edges, table, KNOWN_EXCEPTIONS)).toEqual([]);
  });

  it('has no folder-level import cycle', () => {
    expect(cycles(edges, KNOWN_EXCEPTIONS)).toEqual([]);
  });

  it('lists only known exceptions that still exist and that the table forbids', () => {
    const present = new Set(edges.map(key));
    expect(KNOWN_EXCEPTIONS.filter((k) => !present.has(k)).map((k) => `${k} is gone: remove it from KNOWN_EXCEPTIONS`)).toEqual([]);
    expect(KNOWN_EXCEPTIONS.filter((k) => table.get(k.split(' -> ')[0])?.has(k.split(' -> ')[1]))).toEqual([]);
  });

  it('keeps the library to itself: no import of src/, test/ or samples/, nor of its own package name', () => {
    expect(outside).toEqual([]);
  });

  it('lets the CLI (src/) use the library through its package entries and its private entry only', () => {
    const cli = join(REPO, 'src');
    const privateEntry = join(LIB, 'internal');
    const deep: string[] = [];
    for (const file of sourceFiles(cli)) {
      for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
        const target = resolve(dirname(file), specifier);
        if (specifier.startsWith('.') && relative(cli, target).startsWith('..') && target !== privateEntry) {
          deep.push(`${relative(REPO, file)}: ${specifier}`);
        }
      }
    }
    expect(deep).toEqual([]);
  });
});

describe('the layer checker', () => {
  const table = new Map([
    ['model', new Set(['errors'])],
    ['errors', new Set<string>()],
    ['inference', new Set(['model', 'errors'])],
  ]);
  const edge = (from: string, to: string): Edge => ({ from, to, file: `${from}/x.ts`, specifier: `../${to}/y` });

  it('reports an import the table does not allow, unless it is a known exception', () => {
    expect(violations([edge('model', 'inference')], table, [])).toEqual([
      'model -> inference, not in the layer table: model/x.ts (../inference/y)',
    ]);
    expect(violations([edge('model', 'inference')], table, ['model -> inference'])).toEqual([]);
    expect(violations([edge('inference', 'model')], table, [])).toEqual([]);
  });

  it('finds cycles through several folders, but not between a folder and its subfolder', () => {
    expect(cycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')], [])).toEqual([['a', 'b', 'c']]);
    expect(cycles([edge('a', 'b'), edge('b', 'a')], ['b -> a'])).toEqual([]);
    expect(cycles([edge('monitoring', 'monitoring/sinks'), edge('monitoring/sinks', 'monitoring')], [])).toEqual([]);
  });

  it('reads every import form', () => {
    const text = [
      "import { a } from './a';",
      "import type {\n  B,\n  C,\n} from '../b';",
      "export * from './c';",
      "export { d } from './d';",
      "import './e';",
      "const f = require('./f');",
      "const g = await import('./g');",
      ' * import { h } from "./not-in-a-comment";',
    ].join('\n');
    expect(specifiersOf(text).sort()).toEqual(['../b', './a', './c', './d', './e', './f', './g']);
  });
});
