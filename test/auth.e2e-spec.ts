import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EchoFixture } from './fixtures/test-models';
import { createApp, DOORS, send } from './helpers/test-app';
import { createFastifyAdapter, ModelServerModule } from 'nest-model-server';
import { ModelServerMonitoringModule } from 'nest-model-server/monitoring';
import { SageMakerModule } from 'nest-model-server/sagemaker';

const body = { inputs: [{ name: 'x', datatype: 'INT8', shape: [1], data: [1] }] };

describe.each(DOORS)('bearer-token / API-key auth (%s)', (door) => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nms-auth-'));
    const file = join(dir, 'tokens');
    writeFileSync(file, '# ops team\nfile-token-123456\n\n');
    app = await createApp({ models: [{ name: 'echo', model: EchoFixture }], modelControl: true, auth: { tokens: ['secret-token-1'], tokensFile: file } }, door);
  });
  afterAll(() => app.close());

  it.each([
    ['POST', '/v2/models/echo/infer'],
    ['GET', '/v2/models/echo'],
    ['GET', '/v2/models'],
    ['GET', '/v2'],
    ['POST', '/v2/repository/index'],
    ['POST', '/v2/repository/models/echo/unload'],
  ])('%s %s without credentials is 401 with {"error"}', async (method, url) => {
    const res = await send(app, method, url, method === 'POST' ? body : undefined);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body.error).toMatch(/credentials/);
    expect(JSON.stringify(res.body)).not.toMatch(/secret-token|file-token/);
  });

  it.each([
    ['a bearer token', { authorization: 'Bearer secret-token-1' }],
    ['a token from the file', { authorization: 'bearer file-token-123456' }],
    ['the API-key header', { 'x-api-key': 'secret-token-1' }],
  ])('%s is accepted', async (_what, headers) => {
    const res = await send(app, 'POST', '/v2/models/echo/infer', body, headers);
    expect(res.status).toBe(200);
  });

  it.each([
    ['a wrong token', { authorization: 'Bearer secret-token-2' }],
    ['a prefix of the token', { authorization: 'Bearer secret-token' }],
    ['another scheme', { authorization: 'Basic c2VjcmV0LXRva2VuLTE=' }],
    ['an empty API key', { 'x-api-key': '' }],
  ])('%s is refused', async (_what, headers) => {
    expect((await send(app, 'POST', '/v2/models/echo/infer', body, headers)).status).toBe(401);
  });

  it('health and docs stay open by default (orchestrators probe without credentials)', async () => {
    expect((await send(app, 'GET', '/v2/health/live')).status).toBe(200);
    expect((await send(app, 'GET', '/v2/health/ready')).status).toBe(200);
    expect((await send(app, 'GET', '/v2/health/ready/')).status).not.toBe(401); // a trailing slash is still the health route
    expect((await send(app, 'GET', '/openapi.json')).status).toBe(200);
  });

  it('health can be protected too', async () => {
    const strict = await createApp({ models: [{ name: 'echo', model: EchoFixture }], auth: { tokens: ['secret-token-1'], protectHealth: true } }, door);
    try {
      expect((await send(strict, 'GET', '/v2/health/live')).status).toBe(401);
      expect((await send(strict, 'GET', '/v2/health/live', undefined, { authorization: 'Bearer secret-token-1' })).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('short tokens and unreadable token files are refused at boot', async () => {
    await expect(createApp({ models: [{ name: 'echo', model: EchoFixture }], auth: { tokens: ['short'] } }, door)).rejects.toThrow(/at least 8 characters/);
    await expect(createApp({ models: [{ name: 'echo', model: EchoFixture }], auth: { tokensFile: '/no/such/tokens' } }, door)).rejects.toThrow(/cannot read the auth tokens file \/no\/such\/tokens: ENOENT/);
  });

  it('without tokens nothing is protected', async () => {
    const openApp = await createApp({ models: [{ name: 'echo', model: EchoFixture }] }, door);
    try {
      expect((await send(openApp, 'POST', '/v2/models/echo/infer', body)).status).toBe(200);
    } finally {
      await openApp.close();
    }
  });

  describe('open routes name no model while the models are protected', () => {
    let finishLoading: () => void = () => undefined;
    class Slow extends EchoFixture {
      async load(): Promise<void> {
        await new Promise<void>((resolve) => (finishLoading = resolve));
      }
    }
    let guarded: NestFastifyApplication;
    const creds = { authorization: 'Bearer secret-token-1' };

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          ModelServerModule.forRoot({
            models: [{ name: 'secret-model', model: EchoFixture }, { name: 'waiting-model', model: Slow, loadMode: 'background' }],
            auth: { tokens: ['secret-token-1'] },
          }),
          ModelServerMonitoringModule.forRoot({}),
          SageMakerModule.forRoot({ defaultModel: 'secret-model' }),
        ],
      }).compile();
      guarded = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: false });
      await guarded.init();
      await guarded.getHttpAdapter().getInstance().ready();
    });
    afterAll(async () => {
      finishLoading();
      await guarded.close();
    });

    it('/openapi.json is open and generic', async () => {
      const doc = await send(guarded, 'GET', '/openapi.json');
      expect(doc.status).toBe(200);
      expect(doc.raw.toString()).not.toMatch(/secret-model|waiting-model/);
      expect(doc.body.paths['/v2/models/{model}/infer']).toBeDefined();
    });

    it('/metrics needs credentials by default, and then lists the models', async () => {
      expect((await send(guarded, 'GET', '/metrics')).status).toBe(401);
      const metrics = await send(guarded, 'GET', '/metrics', undefined, creds);
      expect(metrics.status).toBe(200);
      expect(metrics.raw.toString()).toMatch(/secret-model/);
    });

    it('/ping stays open and says it is not ready without naming the model', async () => {
      const ping = await send(guarded, 'GET', '/ping');
      expect(ping.status).toBe(503);
      expect(ping.raw.toString()).not.toMatch(/waiting-model|secret-model/);
    });
  });
});
