import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

let built = false;

/** Compiles the server (`dist/`) once per test process, as `npm run build` does, for tests of the built CLI. */
export function buildOnce(): string {
  if (!built) {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, stdio: 'pipe' });
    built = true;
  }
  return join(REPO_ROOT, 'dist', 'src', 'cli.js');
}
