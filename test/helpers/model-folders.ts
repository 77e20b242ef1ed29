import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The repository's root. */
export const REPO_ROOT = join(__dirname, '..', '..');

/** Writes files (path relative to `root` → text), making their folders. */
export function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

/** A fresh folder in the system's temporary directory, outside the repository; `remove` deletes it. */
export function outsideFolder(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Model folders as a user deploys them, each importing the framework by package name:
 * - `greeter`: TypeScript, reads `greeting.txt` beside it, uses a package installed with the server (`yaml`),
 *   a `model.yaml` with parameters;
 * - `doubler`: CommonJS JavaScript with its own `node_modules/yaml`, which wins over the server's;
 * - `threaded`: TypeScript run in a worker thread (`workers: 1` in its `model.yaml`), answering its thread id.
 * Each takes one FP32 input `x`.
 */
export const MODEL_FOLDERS: Record<string, string> = {
  'greeter/model.ts': `import { ModelServer, type InferenceRequest, type InferenceResult } from 'nest-model-server';
import { stringify } from 'yaml';

export class GreeterModel extends ModelServer {
  private greeting = '';
  async load(): Promise<void> {
    this.greeting = (await this.context.readFile('greeting.txt')).toString('utf8').trim();
  }
  predict(request: InferenceRequest): InferenceResult {
    const mark = this.context.getParam<string>('mark', '?');
    const count = request.inputs[0].shape[0];
    return {
      outputs: [
        { name: 'greeting', datatype: 'BYTES', shape: [1], data: [this.greeting + mark + ' x' + count] },
        { name: 'yaml', datatype: 'BYTES', shape: [1], data: [stringify({ served: true }).trim()] },
      ],
    };
  }
}
`,
  'greeter/greeting.txt': 'hello from a folder\n',
  'greeter/model.yaml': 'class: GreeterModel\nparameters:\n  mark: "!"\n',
  'doubler/model.js': `'use strict';
const { ModelServer } = require('nest-model-server');
const yaml = require('yaml');

class DoublerModel extends ModelServer {
  predict(request) {
    const x = request.inputs[0];
    return {
      outputs: [
        { name: 'doubled', datatype: 'FP32', shape: x.shape, data: Array.from(x.data, (v) => v * 2) },
        { name: 'yaml', datatype: 'BYTES', shape: [1], data: [yaml.stringify({ served: true })] },
      ],
    };
  }
}
module.exports = { DoublerModel };
`,
  'doubler/node_modules/yaml/package.json': '{ "name": "yaml", "version": "0.0.1-own", "main": "index.js" }\n',
  'doubler/node_modules/yaml/index.js': "module.exports = { stringify: () => 'the folder\\'s own yaml' };\n",
  'threaded/model.ts': `import { threadId } from 'node:worker_threads';
import { ModelServer, type InferenceResult } from 'nest-model-server';
import { parse } from 'yaml';

export class ThreadedModel extends ModelServer {
  predict(): InferenceResult {
    return {
      outputs: [
        { name: 'thread', datatype: 'INT32', shape: [1], data: [threadId] },
        { name: 'yaml', datatype: 'BYTES', shape: [1], data: [String(parse('ok: true').ok)] },
      ],
    };
  }
}
`,
  'threaded/model.yaml': 'workers: 1\n',
};

/** A v2 infer body with one FP32 input `x`. */
export function inferBody(data: number[] = [1, 2]): string {
  return JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [data.length], data }] });
}

/** The newest modification time of the sources the build compiles. */
function newestSource(): number {
  let newest = 0;
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (/\.(ts|proto)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of ['libs', 'src', 'samples']) visit(join(REPO_ROOT, dir));
  return Math.max(newest, statSync(join(REPO_ROOT, 'package.json')).mtimeMs);
}

let built = false;

/**
 * Compiles the server (`dist/`) as `npm run build` does, for tests of the built CLI, unless a build newer than
 * every source is there. Suites running at the same time take turns (a lock folder), so none rewrites `dist/`
 * while another's server runs from it.
 */
export function buildOnce(): string {
  const cli = join(REPO_ROOT, 'dist', 'src', 'cli.js');
  if (built) return cli;
  const lock = join(REPO_ROOT, 'dist.build-lock');
  const stamp = join(REPO_ROOT, 'dist', '.built-at');
  const deadline = Date.now() + 120000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} is held for 2 minutes: remove it if no build runs`);
      execFileSync(process.execPath, ['-e', 'setTimeout(() => {}, 200)']);
    }
  }
  try {
    const fresh = existsSync(stamp) && existsSync(cli) && Number(readFileSync(stamp, 'utf8')) >= newestSource();
    if (!fresh) {
      const started = Date.now();
      execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, stdio: 'pipe' });
      writeFileSync(stamp, String(started));
    }
    built = true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return cli;
}
