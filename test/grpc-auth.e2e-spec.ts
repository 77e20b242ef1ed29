import { status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import type { ModelServerModuleOptions } from 'nest-model-server';
import { EchoFixture } from './fixtures/test-models';
import { createGrpcApp, type GrpcTestApp, type Message } from './helpers/grpc-client';

const infer = { model_name: 'echo', inputs: [{ name: 'x', datatype: 'INT32', shape: ['1'], contents: { int_contents: [7] } }] };
const TOKEN = 'grpc-secret-1';
const WITH_TOKEN = { metadata: { authorization: `Bearer ${TOKEN}` } };

/** Every RPC of the service, the request it is called with, and the REST route that does the same. */
const RPCS: [rpc: string, request: Message, method: 'GET' | 'POST', url: string][] = [
  ['ServerLive', {}, 'GET', '/v2/health/live'],
  ['ServerReady', {}, 'GET', '/v2/health/ready'],
  ['ModelReady', { name: 'echo' }, 'GET', '/v2/models/echo/ready'],
  ['ServerMetadata', {}, 'GET', '/v2'],
  ['ModelMetadata', { name: 'echo' }, 'GET', '/v2/models/echo'],
  ['ModelInfer', infer, 'POST', '/v2/models/echo/infer'],
  ['ModelStreamInfer', infer, 'POST', '/v2/models/echo/infer'],
  ['RepositoryIndex', {}, 'POST', '/v2/repository/index'],
  ['RepositoryModelLoad', { model_name: 'echo' }, 'POST', '/v2/repository/models/echo/load'],
  ['RepositoryModelUnload', { model_name: 'nope' }, 'POST', '/v2/repository/models/nope/unload'],
];

/** The status an RPC ends with (OK or an error), the stream included. */
async function statusOf(t: GrpcTestApp, rpc: string, request: Message, settings = {}): Promise<{ code: number; details: string }> {
  if (rpc === 'ModelStreamInfer') {
    const stream = t.client.stream(settings);
    stream.on('data', () => undefined);
    const ended = new Promise<StatusObject | ServiceError>((resolve) => {
      stream.on('status', resolve);
      stream.on('error', resolve);
    });
    stream.write(request);
    stream.end();
    const s = await ended;
    return { code: s.code, details: s.details };
  }
  try {
    await t.client.call(rpc, request, settings);
    return { code: status.OK, details: '' };
  } catch (err) {
    return { code: (err as ServiceError).code, details: (err as ServiceError).details };
  }
}

async function restStatus(t: GrpcTestApp, method: string, url: string): Promise<number> {
  const res = await t.app.inject({ method: method as 'GET', url, payload: method === 'POST' ? JSON.stringify({ inputs: [] }) : undefined, headers: { 'content-type': 'application/json' } });
  return res.statusCode;
}

describe.each<[string, NonNullable<ModelServerModuleOptions['auth']>, string[]]>([
  ['default', { tokens: [TOKEN] }, ['ServerLive', 'ServerReady']],
  ['protectHealth', { tokens: [TOKEN], protectHealth: true }, []],
])('gRPC with auth tokens (%s)', (_label, auth, open) => {
  let t: GrpcTestApp;
  beforeAll(async () => {
    t = await createGrpcApp({ models: [{ name: 'echo', model: EchoFixture }], modelControl: true, auth });
  });
  afterAll(() => t.close());

  it.each(RPCS)('%s needs credentials exactly when its REST route does', async (rpc, request, method, url) => {
    const grpcAnswer = await statusOf(t, rpc, request);
    const restAnswer = await restStatus(t, method, url);
    if (open.includes(rpc)) {
      expect(grpcAnswer.code).not.toBe(status.UNAUTHENTICATED);
      expect(restAnswer).not.toBe(401);
    } else {
      expect(grpcAnswer).toEqual({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/authorization: Bearer/) });
      expect(grpcAnswer.details).not.toMatch(/grpc-secret|echo/);
      expect(restAnswer).toBe(401);
    }
  });

  it.each(RPCS)('%s with a token is not refused for credentials', async (rpc, request) => {
    expect((await statusOf(t, rpc, request, WITH_TOKEN)).code).not.toBe(status.UNAUTHENTICATED);
  });

  it('what stays open names no model', async () => {
    for (const rpc of open) {
      const answer = await t.client.call(rpc, {});
      expect(JSON.stringify(answer)).not.toMatch(/echo/);
    }
  });
});

describe('gRPC with auth tokens: credentials', () => {
  let t: GrpcTestApp;
  beforeAll(async () => {
    t = await createGrpcApp({ models: [{ name: 'echo', model: EchoFixture }], auth: { tokens: [TOKEN] } });
  });
  afterAll(() => t.close());

  it('a call without credentials is UNAUTHENTICATED, saying what to send', async () => {
    const err = await t.client.fail('ModelInfer', infer);
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.details).toMatch(/authorization: Bearer/);
    expect(err.details).not.toMatch(/grpc-secret/);
  });

  it('a wrong token is UNAUTHENTICATED', async () => {
    expect((await t.client.fail('ModelInfer', infer, { metadata: { authorization: 'Bearer nope-nope-nope' } })).code).toBe(status.UNAUTHENTICATED);
    expect((await t.client.fail('ModelReady', { name: 'echo' }, { metadata: { 'x-api-key': 'nope-nope-nope' } })).code).toBe(status.UNAUTHENTICATED);
  });

  it('a bearer token or the API-key metadata is accepted', async () => {
    const a = await t.client.call('ModelInfer', infer, WITH_TOKEN);
    expect(a.outputs[0].contents.int_contents).toEqual([7]);
    const b = await t.client.call('ModelInfer', infer, { metadata: { 'x-api-key': TOKEN } });
    expect(b.outputs[0].name).toBe('x');
    expect(await t.client.call('ModelReady', { name: 'echo' }, WITH_TOKEN)).toEqual({ ready: true });
  });

  it('ServerLive and ServerReady stay open for probes', async () => {
    expect(await t.client.call('ServerLive', {})).toEqual({ live: true });
    expect(await t.client.call('ServerReady', {})).toEqual({ ready: true });
  });
});
