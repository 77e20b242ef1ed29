import { status } from '@grpc/grpc-js';
import { EchoFixture, GatedFixture } from './fixtures/test-models';
import { createGrpcApp, HealthClient, type GrpcTestApp, type Message } from './helpers/grpc-client';

/** The statuses a Watch stream sends until `until` is seen (or the stream ends). */
function statuses(stream: NodeJS.EventEmitter, until?: string): Promise<{ seen: string[]; ended: boolean }> {
  return new Promise((resolve) => {
    const seen: string[] = [];
    stream.on('data', (m: Message) => {
      seen.push(m.status as string);
      if (m.status === until) resolve({ seen, ended: false });
    });
    stream.on('end', () => resolve({ seen, ended: true }));
    stream.on('error', () => resolve({ seen, ended: true }));
  });
}

describe('gRPC grpc.health.v1.Health answers as readiness does', () => {
  let t: GrpcTestApp;
  let health: HealthClient;

  beforeAll(async () => {
    GatedFixture.rearm();
    t = await createGrpcApp({
      loadMode: 'background',
      modelControl: true,
      models: [
        { name: 'echo', model: EchoFixture, versions: [{ version: '1' }, { version: '2' }] },
        { name: 'gated', model: GatedFixture },
      ],
    });
    health = new HealthClient(t.port);
  });
  afterAll(async () => {
    GatedFixture.release();
    health.close();
    await t.close();
  });

  it('while a model loads: the server and that model NOT_SERVING, the loaded model SERVING, as ServerReady / ModelReady say', async () => {
    expect(await t.client.call('ServerReady', {})).toEqual({ ready: false });
    expect(await health.check('')).toBe('NOT_SERVING');
    expect(await health.check('inference.GRPCInferenceService')).toBe('NOT_SERVING');
    expect(await t.client.call('ModelReady', { name: 'gated' })).toEqual({ ready: false });
    expect(await health.check('gated')).toBe('NOT_SERVING');
    expect(await health.check('echo')).toBe('SERVING');
    expect(await health.check('echo/2')).toBe('SERVING');
  });

  it('an unknown model or version: Check NOT_FOUND, Watch SERVICE_UNKNOWN', async () => {
    for (const service of ['nope', 'echo/9']) {
      const err = await health.checkFails(service);
      expect(err.code).toBe(status.NOT_FOUND);
      expect(err.details).toContain(`unknown service '${service}'`);
    }
    const stream = health.watch('nope');
    stream.on('error', () => undefined); // CANCELLED, when the test cancels it
    const first = await new Promise<Message>((resolve) => stream.once('data', resolve));
    expect(first.status).toBe('SERVICE_UNKNOWN');
    stream.cancel();
  });

  it('Watch sends the status at once, then the change when the model becomes ready', async () => {
    const server = health.watch('');
    const model = health.watch('gated');
    const serverSeen = statuses(server, 'SERVING');
    const modelSeen = statuses(model, 'SERVING');
    await new Promise((r) => setTimeout(r, 300));
    GatedFixture.release();
    expect(await serverSeen).toEqual({ seen: ['NOT_SERVING', 'SERVING'], ended: false });
    expect(await modelSeen).toEqual({ seen: ['NOT_SERVING', 'SERVING'], ended: false });
    expect(await t.client.call('ServerReady', {})).toEqual({ ready: true });
    expect(await health.check('')).toBe('SERVING');
    server.cancel();
    model.cancel();
  });

  it('an unloaded model turns NOT_SERVING, as ModelReady does', async () => {
    await t.client.call('RepositoryModelUnload', { model_name: 'echo' });
    expect(await t.client.call('ModelReady', { name: 'echo' })).toEqual({ ready: false });
    expect(await health.check('echo')).toBe('NOT_SERVING');
    await t.client.call('RepositoryModelLoad', { model_name: 'echo' });
    expect(await health.check('echo')).toBe('SERVING');
  });
});

describe('gRPC health on shutdown and with credentials', () => {
  it('a Watch stream sees NOT_SERVING and ends when the server closes', async () => {
    const t = await createGrpcApp({ models: [{ name: 'echo', model: EchoFixture }] });
    const health = new HealthClient(t.port);
    try {
      const stream = health.watch('echo');
      const seen = statuses(stream);
      await new Promise((r) => setTimeout(r, 100));
      await t.close();
      expect(await seen).toEqual({ seen: ['SERVING', 'NOT_SERVING'], ended: true });
    } finally {
      health.close();
    }
  });

  it('stays open without credentials when tokens are configured (probes send none); the model RPCs do not', async () => {
    const t = await createGrpcApp({ auth: { tokens: ['s3cret-token'] }, models: [{ name: 'echo', model: EchoFixture }] });
    const health = new HealthClient(t.port);
    try {
      expect(await health.check('')).toBe('SERVING');
      expect(await health.check('echo')).toBe('SERVING');
      expect((await t.client.fail('ModelReady', { name: 'echo' })).code).toBe(status.UNAUTHENTICATED);
    } finally {
      health.close();
      await t.close();
    }
  });

  it('protectHealth: Check needs credentials too', async () => {
    const t = await createGrpcApp({ auth: { tokens: ['s3cret-token'], protectHealth: true }, models: [{ name: 'echo', model: EchoFixture }] });
    const health = new HealthClient(t.port);
    try {
      expect((await health.checkFails('')).code).toBe(status.UNAUTHENTICATED);
    } finally {
      health.close();
      await t.close();
    }
  });
});
