import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http, send, startCli, stopCli, type CliProcess } from './helpers/cli-process';
import { outsideFolder, writeTree } from './helpers/model-folders';

/**
 * Model folders as SageMaker puts them on disk for a multi-model endpoint (each under its own path, outside the
 * server): `adder` (TypeScript, declared input, slow enough to be caught in flight), `scaler` (JavaScript, no
 * declared input), `broken` (its load fails), `empty` (no model module) and `sneaky` (notes when its code runs).
 * `adder` and `scaler` count their loads in a file beside them.
 */
const FOLDERS: Record<string, string> = {
  'adder/model/model.ts': `import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelServer, type InferenceRequest, type InferenceResult } from 'nest-model-server';

export class AdderModel extends ModelServer {
  load(): void {
    appendFileSync(join(this.context.modelPath!, 'loads.txt'), 'x');
  }
  async predict(request: InferenceRequest): Promise<InferenceResult> {
    await new Promise((resolve) => setTimeout(resolve, this.context.getParam<number>('delay_ms', 0)));
    const x = request.inputs[0];
    const [rows, cols] = x.shape;
    const sums = new Float32Array(rows);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sums[r] += (x.data as Float32Array)[r * cols + c];
    return { outputs: [{ name: 'sum', datatype: 'FP32', shape: [rows], data: sums }] };
  }
}
`,
  'adder/model/model.yaml': 'class: AdderModel\nparameters:\n  delay_ms: 400\ninputs:\n  - { name: x, datatype: FP32, shape: [-1, 3] }\n',
  'scaler/model/model.js': `'use strict';
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
const { ModelServer } = require('nest-model-server');

class ScalerModel extends ModelServer {
  async load() {
    await new Promise((resolve) => setTimeout(resolve, 300));
    appendFileSync(join(this.context.modelPath, 'loads.txt'), 'x');
  }
  predict(request, ctx) {
    const x = request.inputs[0];
    const target = ctx.headers['x-amzn-sagemaker-target-model'] ?? 'none';
    return {
      outputs: [
        { name: 'scaled', datatype: 'FP32', shape: x.shape, data: Array.from(x.data, (v) => v * 10) },
        { name: 'target', datatype: 'BYTES', shape: [x.shape[0]], data: Array.from({ length: x.shape[0] }, () => target) },
      ],
    };
  }
}
module.exports = { ScalerModel };
`,
  'broken/model/model.ts': `import { ModelServer, type InferenceResult } from 'nest-model-server';

export class BrokenModel extends ModelServer {
  load(): void {
    throw new Error('the weights file is missing');
  }
  predict(): InferenceResult {
    return { outputs: [] };
  }
}
`,
  'empty/model/README.txt': 'no model here\n',
  // Notes in a file beside it whenever its code runs (a load requires the module).
  'sneaky/model/model.js': `'use strict';
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
const { ModelServer } = require('nest-model-server');

appendFileSync(join(__dirname, 'ran.txt'), 'x');

class SneakyModel extends ModelServer {
  predict() {
    return { outputs: [] };
  }
}
module.exports = { SneakyModel };
`,
};

const JSON_TYPE = { 'content-type': 'application/json' };

describe('a SageMaker multi-model endpoint on the real CLI (npm start with SAGEMAKER_MULTI_MODEL=true)', () => {
  const folder = outsideFolder('nms-mme');
  const url = (name: string) => join(folder.path, name, 'model');
  let cli: CliProcess;

  /** POST /models as SageMaker sends it. */
  const load = (name: string, from = url(name)) => send(cli.port, '/models', { headers: JSON_TYPE, body: JSON.stringify({ model_name: name, url: from }) });
  const invoke = (name: string, body: string, headers: Record<string, string> = {}) =>
    send(cli.port, `/models/${name}/invoke`, { headers: { 'content-type': 'text/csv', 'x-amzn-sagemaker-target-model': `${name}.tar.gz`, ...headers }, body });
  const loads = (name: string) => readFileSync(join(url(name), 'loads.txt'), 'utf8').length;
  /** The monitoring records (MLRun's format, one line each, written as they come). */
  const records = join(folder.path, 'records.jsonl');
  /** The first record `match` takes, once the stream has written it (a few seconds at most). */
  const recordOf = async (match: (r: Record<string, any>) => boolean): Promise<Record<string, any> | undefined> => {
    for (const until = Date.now() + 5000; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const lines = existsSync(records) ? readFileSync(records, 'utf8').split('\n').filter((l) => l !== '') : [];
      const found = lines.map((l) => JSON.parse(l) as Record<string, any>).find(match);
      if (found !== undefined || Date.now() > until) return found;
    }
  };

  beforeAll(async () => {
    writeTree(folder.path, FOLDERS);
    // The samples (npm start's config), with the multi-model API on and room for two models.
    // Monitoring records to a file, each written at once, as a SageMaker container would stream them.
    cli = await startCli(
      [],
      { SAGEMAKER_MULTI_MODEL: 'true', SAGEMAKER_MULTI_MODEL_MAX_MODELS: '2', LOG_LEVEL: 'warn', LOG_STREAM: `file://${records}`, LOG_STREAM_BATCH: '1' },
      90000,
      { readyPath: '/ping' },
    );
  }, 120000);

  afterAll(async () => {
    await stopCli(cli);
    folder.remove();
  });

  it('starts healthy with no model loaded', async () => {
    expect((await http(cli.port, 'GET', '/ping')).status).toBe(200);
    const list = await send(cli.port, '/models', { method: 'GET' });
    expect([list.status, JSON.parse(list.body)]).toEqual([200, { models: [] }]);
    const doc = JSON.parse((await http(cli.port, 'GET', '/openapi.json')).body) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/models', '/models/{name}', '/models/{name}/invoke']));
  });

  it('POST /models takes only application/json: a cross-site "simple" request (text/plain, a form, no type) is a 415 and runs no code', async () => {
    const body = JSON.stringify({ model_name: 'sneaky', url: url('sneaky') });
    const attempts: [string, Record<string, string>][] = [
      ['text/plain', { 'content-type': 'text/plain' }],
      ['text/plain;charset=UTF-8 (what fetch sends)', { 'content-type': 'text/plain;charset=UTF-8' }],
      ['form-encoded', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['multipart form', { 'content-type': 'multipart/form-data; boundary=b' }],
      ['no content type', {}],
    ];
    const answers: [string, number, unknown][] = [];
    for (const [what, headers] of attempts) {
      const a = await send(cli.port, '/models', { headers, body });
      answers.push([what, a.status, typeof (JSON.parse(a.body) as { error?: unknown }).error]);
    }
    expect(answers).toEqual(attempts.map(([what]) => [what, 415, 'string']));
    expect(existsSync(join(url('sneaky'), 'ran.txt'))).toBe(false);
    expect((await send(cli.port, '/models/sneaky', { method: 'GET' })).status).toBe(404);
    // The same body as application/json loads it (so the refusals above were the content type's), and unloads.
    expect((await load('sneaky')).status).toBe(200);
    expect(existsSync(join(url('sneaky'), 'ran.txt'))).toBe(true);
    expect((await send(cli.port, '/models/sneaky', { method: 'DELETE' })).status).toBe(200);
  });

  it('loads a model folder; invoked with CSV, it answers CSV, one line per row', async () => {
    const loaded = await load('adder');
    expect([loaded.status, JSON.parse(loaded.body)]).toEqual([200, { modelName: 'adder', modelUrl: url('adder') }]);
    const res = await invoke('adder', '1,2,3\n4,5,6\n');
    expect([res.status, res.headers['content-type'], res.body]).toEqual([200, 'text/csv; charset=utf-8', '6\n15\n']);
    const json = await invoke('adder', '1,1,1\n', { accept: 'application/json' });
    expect([json.status, JSON.parse(json.body)]).toEqual([200, { predictions: [3] }]);
  });

  it('an invoke of a loaded model writes a monitoring record naming the model, and its version, as the server names them', async () => {
    const res = await invoke('adder', '7,8,9\n');
    expect([res.status, res.body]).toEqual([200, '24\n']);
    // The version the server gives the loaded model (its metrics series say the same).
    const metrics = (await http(cli.port, 'GET', '/metrics')).body;
    const version = /nms_requests_total\{model="adder",version="([^"]*)"/.exec(metrics)?.[1];
    expect(version).toBeDefined();
    const record = await recordOf((r) => r.model === 'adder' && JSON.stringify(r.request?.inputs) === '[[7,8,9]]');
    expect(record).toMatchObject({ class: 'AdderModel', model: 'adder', version, op: 'infer', resp: { model_name: 'adder', outputs: [24] } });
    expect(record!.error).toBeUndefined();
  });

  it('a folder whose load fails answers the reason and stays unloaded; one without a model is a 400', async () => {
    const broken = await load('broken');
    expect(broken.status).toBe(500);
    expect(JSON.parse(broken.body).error).toContain('the weights file is missing');
    expect((await send(cli.port, '/models/broken', { method: 'GET' })).status).toBe(404);
    expect((await load('broken')).status).toBe(500); // not "already loaded": the name stayed free
    const empty = await load('empty');
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.body).error).toMatch(/cannot load model 'empty'/);
    const malformed = await send(cli.port, '/models', { headers: JSON_TYPE, body: '{"model_name": "a/b", "url": "/x"}' });
    expect(malformed.status).toBe(400);
    // A body of millions of small values is refused before they are built, as on every route that reads JSON.
    const bloated = await send(cli.port, '/models', { headers: JSON_TYPE, body: `{"model_name":"x","url":"/x","p":[${'{},'.repeat(2_000_000)}{}]}` });
    expect(bloated.status).toBe(400);
    expect(JSON.parse(bloated.body).error).toMatch(/maxJsonValueBytes/);
  });

  it('concurrent loads of one name load it once and both succeed', async () => {
    const [a, b] = await Promise.all([load('scaler'), load('scaler')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(loads('scaler')).toBe(1);
    // The original target model reaches model code (for logging), the model itself comes from the path.
    const res = await invoke('scaler', '1,2\n');
    expect([res.status, res.body]).toEqual([200, '10,20,scaler.tar.gz\n']);
  });

  it('lists the loaded models a page at a time (next_page_token / nextPageToken)', async () => {
    const all = await send(cli.port, '/models', { method: 'GET' });
    expect(JSON.parse(all.body)).toEqual({
      models: [
        { modelName: 'adder', modelUrl: url('adder') },
        { modelName: 'scaler', modelUrl: url('scaler') },
      ],
    });
    const first = JSON.parse((await send(cli.port, '/models?limit=1', { method: 'GET' })).body);
    expect(first.models).toEqual([{ modelName: 'adder', modelUrl: url('adder') }]);
    expect(typeof first.nextPageToken).toBe('string');
    const second = JSON.parse((await send(cli.port, `/models?limit=1&next_page_token=${first.nextPageToken}`, { method: 'GET' })).body);
    expect(second).toEqual({ models: [{ modelName: 'scaler', modelUrl: url('scaler') }] });
    const one = await send(cli.port, '/models/scaler', { method: 'GET' });
    expect([one.status, JSON.parse(one.body)]).toEqual([200, { modelName: 'scaler', modelUrl: url('scaler') }]);
    expect((await send(cli.port, '/models?next_page_token=%25%25', { method: 'GET' })).status).toBe(400);
  });

  it('refuses a second load of a loaded name (409) and a load past the budget (507)', async () => {
    const again = await load('adder');
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body).error).toMatch(/already loaded/);
    const full = await load('adder-2', url('adder'));
    expect(full.status).toBe(507);
    expect(JSON.parse(full.body).error).toMatch(/maxModels/);
    expect(loads('adder')).toBe(1);
  });

  it('unloads during traffic without failing a request, then answers 404 for the model', async () => {
    const inFlight = Array.from({ length: 6 }, (_, i) => invoke('adder', `${i},${i},${i}\n`));
    await new Promise((resolve) => setTimeout(resolve, 150)); // the requests are in predict (400 ms)
    const started = Date.now();
    const unloaded = await send(cli.port, '/models/adder', { method: 'DELETE' });
    const waited = Date.now() - started;
    expect(unloaded.status).toBe(200);
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => [a.status, a.body])).toEqual(Array.from({ length: 6 }, (_, i) => [200, `${3 * i}\n`]));
    expect(waited).toBeGreaterThanOrEqual(150); // it waited for the requests in flight
    const after = await invoke('adder', '1,2,3\n');
    expect(after.status).toBe(404);
    // The listing of this mode: the models SageMaker loaded (GET /models), not the /v2 one.
    expect(JSON.parse(after.body).error).toBe("model 'adder' is not loaded (GET /models lists the loaded models)");
    const targeted = await send(cli.port, '/invocations', { headers: { 'content-type': 'text/csv', 'x-amzn-sagemaker-target-model': 'adder' }, body: '1,2,3\n' });
    expect([targeted.status, JSON.parse(targeted.body).error]).toEqual([404, "model 'adder' is not loaded (GET /models lists the loaded models)"]);
    expect((await send(cli.port, '/models/adder', { method: 'GET' })).status).toBe(404);
    expect((await send(cli.port, '/models/adder', { method: 'DELETE' })).status).toBe(404);
    expect(JSON.parse((await send(cli.port, '/models', { method: 'GET' })).body).models).toEqual([{ modelName: 'scaler', modelUrl: url('scaler') }]);
    expect((await http(cli.port, 'GET', '/ping')).status).toBe(200);
  });

  it('the freed room takes another model, from the folder\'s code as it is now; metrics name the models as loaded', async () => {
    // SageMaker may put new files where an unloaded model was: the next load runs them, not the code loaded before.
    const file = join(url('adder'), 'model.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('new Float32Array(rows);', 'new Float32Array(rows).fill(100);'));
    const loaded = await load('adder-2', url('adder'));
    expect(loaded.status).toBe(200);
    expect((await invoke('adder-2', '1,1,1\n')).body).toBe('103\n');
    const metrics = await http(cli.port, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/model="scaler"/);
    expect(metrics.body).toMatch(/model="adder-2"/);
  });
});
