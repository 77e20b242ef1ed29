import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { createFastifyAdapter, ModelServerModule } from 'nest-model-server';
import { SageMakerModule } from 'nest-model-server/sagemaker';
import { PetalWidthModel } from './petal-width.model';

describe('PetalWidthModel (SageMaker hooks only)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ModelServerModule.forRoot({ models: [{ name: 'petal-width', model: PetalWidthModel, modelPath: join(__dirname, 'model') }] }), SageMakerModule.forRoot({})],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app?.close());

  function invoke(body: string, headers: Record<string, string>) {
    return app.inject({ method: 'POST', url: '/invocations', payload: body, headers });
  }

  it('is ready once its coefficients are loaded', async () => {
    expect((await app.inject({ method: 'GET', url: '/ping' })).statusCode).toBe(200);
  });

  it('reads CSV rows and writes one prediction per line', async () => {
    const res = await invoke('5.1,3.5,1.4\n6.7,3.0,5.2\n', { 'content-type': 'text/csv', accept: 'text/csv' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.body).toBe('0.2163\n1.7647\n');
  });

  it('reads and writes JSON', async () => {
    const res = await invoke('{"features":[[5.1,3.5,1.4]]}', { 'content-type': 'application/json' });
    expect(JSON.parse(res.body)).toEqual({ predictions: [0.2163] });
  });

  it('declares its Batch Transform parameters', async () => {
    const res = await app.inject({ method: 'GET', url: '/execution-parameters' });
    expect(JSON.parse(res.body)).toEqual({ MaxConcurrentTransforms: 4, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 6 });
  });

  it('refuses other content types (415) and accept types (406), and malformed rows (400)', async () => {
    expect((await invoke('x', { 'content-type': 'text/plain' })).statusCode).toBe(415);
    expect((await invoke('5.1,3.5,1.4\n', { 'content-type': 'text/csv', accept: 'application/x-npy' })).statusCode).toBe(406);
    const bad = await invoke('5.1,oops,1.4\n', { 'content-type': 'text/csv' });
    expect([bad.statusCode, JSON.parse(bad.body).error]).toEqual([400, 'send rows of 3 numbers (sepal_length, sepal_width, petal_length)']);
    const json = await invoke('{"features": [[1, 2', { 'content-type': 'application/json' });
    expect(json.statusCode).toBe(400);
  });

  it('still answers the v2 protocol', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/petal-width/infer',
      payload: { inputs: [{ name: 'features', datatype: 'FP64', shape: [1, 3], data: [5.1, 3.5, 1.4] }] },
    });
    expect(JSON.parse(res.body).outputs[0]).toEqual({ name: 'petal_width', datatype: 'FP64', shape: [1], data: [0.2163] });
  });
});
