import { status } from '@grpc/grpc-js';
import { EchoFixture } from './fixtures/test-models';
import { createGrpcApp, type GrpcTestApp } from './helpers/grpc-client';

const infer = { model_name: 'echo', inputs: [{ name: 'x', datatype: 'INT32', shape: ['1'], contents: { int_contents: [7] } }] };

describe('gRPC with auth tokens', () => {
  let t: GrpcTestApp;
  beforeAll(async () => {
    t = await createGrpcApp({ models: [{ name: 'echo', model: EchoFixture }], auth: { tokens: ['grpc-secret-1'] } });
  });
  afterAll(() => t.close());

  it('a call without credentials is UNAUTHENTICATED, saying what to send', async () => {
    const err = await t.client.fail('ModelInfer', infer);
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.details).toMatch(/authorization: Bearer/);
    expect(err.details).not.toMatch(/grpc-secret/);
  });

  it('a wrong token is UNAUTHENTICATED; management RPCs are protected too', async () => {
    expect((await t.client.fail('ModelInfer', infer, { metadata: { authorization: 'Bearer nope-nope-nope' } })).code).toBe(status.UNAUTHENTICATED);
    expect((await t.client.fail('RepositoryIndex', {})).code).toBe(status.UNAUTHENTICATED);
    expect((await t.client.fail('ServerMetadata', {})).code).toBe(status.UNAUTHENTICATED);
  });

  it('a bearer token or the API-key metadata is accepted', async () => {
    const a = await t.client.call('ModelInfer', infer, { metadata: { authorization: 'Bearer grpc-secret-1' } });
    expect(a.outputs[0].contents.int_contents).toEqual([7]);
    const b = await t.client.call('ModelInfer', infer, { metadata: { 'x-api-key': 'grpc-secret-1' } });
    expect(b.outputs[0].name).toBe('x');
  });

  it('health RPCs stay open for probes', async () => {
    expect(await t.client.call('ServerLive', {})).toEqual({ live: true });
    expect((await t.client.call('ModelReady', { name: 'echo', version: '' })).ready).toBe(true);
  });
});
