import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { http, send, ServerUnderTest, sharedServer, startCli, type FullHttpAnswer } from './helpers/cli-process';
import { InferenceClient } from './helpers/grpc-client';
import { outsideFolder, writeTree } from './helpers/model-folders';
import { errorAnswerProblem } from './fixtures/hostile-requests';

/**
 * Issue 13, class "model control and content types", and the auth coverage that goes with it: repository
 * load / unload are refused unless modelControl is on (403 / PERMISSION_DENIED naming the setting); when on, they
 * take only application/json, so a browser's cross-site "simple" request (text/plain, a form, no body) cannot
 * unload a model; with auth on they need credentials, the routes that stay open (health, docs, metrics) name no
 * model, and gRPC ModelReady / ModelMetadata need credentials as their REST routes do. SageMaker's multi-model
 * control (`POST /models`, `DELETE /models/{name}`) follows the same rules when that mode is on.
 */

const SERVER = join(__dirname, 'fixtures', 'hostile-server.yaml');
const AUTH = join(__dirname, 'fixtures', 'hostile-auth.yaml');
const TOKEN = 'hostile-test-token-7f3a';

const ready = async (port: number, model: string, headers: Record<string, string> = {}) => (await send(port, `/v2/models/${model}/ready`, { method: 'GET', headers })).status;

describe('model control off (the default): repository load / unload refused (real process)', () => {
  const server = new ServerUnderTest(() => startCli(['--config', SERVER], { LOG_LEVEL: 'warn' }));
  const suite = sharedServer(server, (port) => new InferenceClient(port));

  it('REST: 403 naming modelControl, whatever the body, and the model stays ready', async () => {
    const port = server.cli.port;
    const problems: (string | undefined)[] = [];
    for (const op of ['load', 'unload']) {
      problems.push(errorAnswerProblem(`${op}, JSON`, await send(port, `/v2/repository/models/echo/${op}`, { body: '{}', headers: { 'content-type': 'application/json' } }), [403], /modelControl/));
      problems.push(errorAnswerProblem(`${op}, no body`, await send(port, `/v2/repository/models/echo/${op}`), [403, 415]));
      problems.push(errorAnswerProblem(`${op}, text/plain`, await send(port, `/v2/repository/models/echo/${op}`, { body: '{}', headers: { 'content-type': 'text/plain' } }), [403, 415]));
    }
    if ((await ready(port, 'echo')) !== 200) problems.push('echo is not ready any more');
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });

  it('gRPC: PERMISSION_DENIED naming modelControl, and the model stays ready', async () => {
    const unload = await suite.grpc.fail('RepositoryModelUnload', { model_name: 'echo' });
    const load = await suite.grpc.fail('RepositoryModelLoad', { model_name: 'echo' });
    expect([unload.code, load.code]).toEqual([status.PERMISSION_DENIED, status.PERMISSION_DENIED]);
    expect(unload.details).toMatch(/modelControl/);
    expect((await suite.grpc.call('ModelReady', { name: 'echo', version: '' })).ready).toBe(true);
  });
});

describe('model control on (MODEL_CONTROL=1): state-changing routes take only application/json (real process)', () => {
  const server = new ServerUnderTest(() => startCli(['--config', SERVER], { LOG_LEVEL: 'warn', MODEL_CONTROL: '1' }));
  beforeAll(() => server.ensure(), 60000);
  afterAll(() => server.stop());

  it('cross-site "simple" requests (text/plain, form-encoded, no body, no type) are 415 and unload nothing', async () => {
    const port = server.cli.port;
    const unload = (options: Parameters<typeof send>[2]) => send(port, '/v2/repository/models/echo/unload', options);
    const attempts: [string, FullHttpAnswer][] = [
      ['text/plain', await unload({ body: '{}', headers: { 'content-type': 'text/plain' } })],
      ['text/plain;charset=UTF-8 (what fetch sends)', await unload({ body: '{}', headers: { 'content-type': 'text/plain;charset=UTF-8' } })],
      ['form-encoded', await unload({ body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })],
      ['multipart form', await unload({ body: '--b\r\n\r\n--b--\r\n', headers: { 'content-type': 'multipart/form-data; boundary=b' } })],
      ['an empty body without a type', await unload({ headers: { 'content-length': '0' } })],
      ['a JSON body without a type', await unload({ body: '{}' })],
    ];
    const problems = attempts.map(([what, a]) => errorAnswerProblem(what, a, [415]));
    if ((await ready(port, 'echo')) !== 200) problems.push('echo was unloaded by a request that is not application/json');
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });

  it('application/json unloads and loads', async () => {
    const port = server.cli.port;
    const json = { 'content-type': 'application/json' };
    expect((await send(port, '/v2/repository/models/echo/unload', { body: '{}', headers: json })).status).toBe(200);
    expect(await ready(port, 'echo')).not.toBe(200);
    expect((await send(port, '/v2/repository/models/echo/load', { body: '{}', headers: { 'content-type': 'application/json; charset=utf-8' } })).status).toBe(200);
    expect(await ready(port, 'echo')).toBe(200);
  });
});

describe('auth on (AUTH_TOKENS) with model control on: credentials everywhere a model is named (real process)', () => {
  const server = new ServerUnderTest(() => startCli(['--config', AUTH], { LOG_LEVEL: 'warn', MODEL_CONTROL: '1', AUTH_TOKENS: TOKEN }));
  const bearer = { authorization: `Bearer ${TOKEN}` };
  const suite = sharedServer(server, (port) => new InferenceClient(port));

  it('repository unload needs credentials (401 without, 200 with)', async () => {
    const port = server.cli.port;
    const json = { 'content-type': 'application/json' };
    const refused = await send(port, '/v2/repository/models/hidden-ranker/unload', { body: '{}', headers: json });
    expect(errorAnswerProblem('unload without credentials', refused, [401])).toBeUndefined();
    expect(await ready(port, 'hidden-ranker', bearer)).toBe(200);
    expect((await send(port, '/v2/repository/models/hidden-ranker/unload', { body: '{}', headers: { ...json, ...bearer } })).status).toBe(200);
    expect((await send(port, '/v2/repository/models/hidden-ranker/load', { body: '{}', headers: { ...json, ...bearer } })).status).toBe(200);
  });

  it('the routes open without credentials (health, /openapi.json, /docs, /metrics) name no model', async () => {
    const port = server.cli.port;
    const problems: string[] = [];
    for (const path of ['/v2/health/live', '/v2/health/ready', '/ping']) {
      const a = await http(port, 'GET', path);
      if (a.status !== 200) problems.push(`${path}: ${a.status} without credentials (health stays open)`);
    }
    for (const path of ['/openapi.json', '/docs', '/metrics']) {
      const a = await http(port, 'GET', path);
      if (a.status === 200 && a.body.includes('hidden-ranker')) problems.push(`${path} is open and names the model 'hidden-ranker'`);
      else if (a.status !== 200 && a.status !== 401) problems.push(`${path}: ${a.status}`);
    }
    expect(problems).toEqual([]);
  });

  it('gRPC: ModelReady, ModelMetadata and repository RPCs need credentials like their REST routes; ServerLive / ServerReady stay open', async () => {
    const problems: string[] = [];
    for (const [method, request] of [
      ['ModelReady', { name: 'hidden-ranker', version: '' }],
      ['ModelMetadata', { name: 'hidden-ranker', version: '' }],
      ['RepositoryIndex', {}],
      ['RepositoryModelUnload', { model_name: 'hidden-ranker' }],
    ] as const) {
      const err = await suite.grpc.fail(method, request).catch((e: Error) => ({ code: -1, details: e.message }));
      if (err.code !== status.UNAUTHENTICATED) problems.push(`${method} without credentials: status ${err.code} ${err.details.slice(0, 120)}`);
    }
    const withToken = { metadata: bearer };
    if ((await suite.grpc.call('ModelReady', { name: 'hidden-ranker', version: '' }, withToken)).ready !== true) problems.push('ModelReady with credentials is not ready');
    if ((await suite.grpc.call('ModelMetadata', { name: 'hidden-ranker', version: '' }, withToken)).name !== 'hidden-ranker') problems.push('ModelMetadata with credentials');
    if ((await suite.grpc.call('ServerLive', {})).live !== true) problems.push('ServerLive without credentials');
    if ((await suite.grpc.call('ServerReady', {})).ready !== true) problems.push('ServerReady without credentials');
    expect(problems).toEqual([]);
  });
});

describe('auth on with SageMaker multi-model on (SAGEMAKER_MULTI_MODEL=true): its control routes need credentials (real process)', () => {
  const folder = outsideFolder('nms-mme-auth');
  // Notes in a file beside it whenever its code runs (a load requires the module).
  writeTree(folder.path, {
    'marker/model/model.js': `'use strict';
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');
const { ModelServer } = require('nest-model-server');
appendFileSync(join(__dirname, 'ran.txt'), 'x');
class MarkerModel extends ModelServer {
  predict(request) {
    return { outputs: [{ name: 'y', datatype: 'FP32', shape: request.inputs[0].shape, data: request.inputs[0].data }] };
  }
}
module.exports = { MarkerModel };
`,
  });
  const modelUrl = join(folder.path, 'marker', 'model');
  const server = new ServerUnderTest(() => startCli(['--config', AUTH], { LOG_LEVEL: 'warn', AUTH_TOKENS: TOKEN, SAGEMAKER_MULTI_MODEL: 'true' }));
  const bearer = { authorization: `Bearer ${TOKEN}` };
  const json = { 'content-type': 'application/json' };
  beforeAll(() => server.ensure(), 60000);
  afterAll(async () => {
    await server.stop();
    folder.remove();
  });

  it('POST /models, GET /models, GET and DELETE /models/{name} and invoke are 401 without credentials; nothing loads', async () => {
    const port = server.cli.port;
    const body = JSON.stringify({ model_name: 'marker', url: modelUrl });
    const attempts: [string, FullHttpAnswer][] = [
      ['POST /models, JSON', await send(port, '/models', { headers: json, body })],
      ['POST /models, text/plain', await send(port, '/models', { headers: { 'content-type': 'text/plain' }, body })],
      ['GET /models', await send(port, '/models', { method: 'GET' })],
      ['GET /models/hidden-ranker', await send(port, '/models/hidden-ranker', { method: 'GET' })],
      ['DELETE /models/hidden-ranker', await send(port, '/models/hidden-ranker', { method: 'DELETE' })],
      ['POST /models/hidden-ranker/invoke', await send(port, '/models/hidden-ranker/invoke', { headers: { 'content-type': 'text/csv' }, body: '1,2\n' })],
    ];
    const problems = attempts.map(([what, a]) => errorAnswerProblem(`${what} without credentials`, a, [401]));
    if (existsSync(join(modelUrl, 'ran.txt'))) problems.push('the model folder\'s code ran for a request without credentials');
    if ((await ready(port, 'hidden-ranker', bearer)) !== 200) problems.push('hidden-ranker is not ready any more');
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });

  it('with credentials: text/plain is still a 415, JSON loads, DELETE unloads', async () => {
    const port = server.cli.port;
    const body = JSON.stringify({ model_name: 'marker', url: modelUrl });
    const plain = await send(port, '/models', { headers: { 'content-type': 'text/plain', ...bearer }, body });
    expect(errorAnswerProblem('text/plain with credentials', plain, [415])).toBeUndefined();
    expect(existsSync(join(modelUrl, 'ran.txt'))).toBe(false);
    expect((await send(port, '/models', { headers: { ...json, ...bearer }, body })).status).toBe(200);
    expect((await send(port, '/models/marker', { method: 'GET', headers: bearer })).status).toBe(200);
    expect((await send(port, '/models/marker', { method: 'DELETE', headers: bearer })).status).toBe(200);
    expect((await send(port, '/models/marker', { method: 'GET', headers: bearer })).status).toBe(404);
  });
});
