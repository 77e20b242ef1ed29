import { BadRequestException, Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createFastifyAdapter, ModelServerModule } from 'nest-model-server';
import { EchoFixture } from './fixtures/test-models';

/** An application's own routes next to the model server's. */
@Controller('app')
class AppController {
  @Get('refused')
  refused(): never {
    throw new BadRequestException('amount must be positive');
  }

  @Get('broken')
  broken(): never {
    throw new Error('a bug in the application');
  }
}

@Module({ imports: [ModelServerModule.forRoot({ models: [{ name: 'echo', model: EchoFixture }] })], controllers: [AppController] })
class AppModule {}

describe('an application set up in two steps (the module and the adapter, no filter of its own)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(AppModule, createFastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  async function get(url: string): Promise<{ status: number; type: string; body: unknown }> {
    const res = await app.inject({ method: 'GET', url });
    return { status: res.statusCode, type: String(res.headers['content-type']), body: JSON.parse(res.body) };
  }

  it('answers an unknown route 404 with an {"error"} body', async () => {
    const res = await get('/no/such/route');
    expect(res).toEqual({ status: 404, type: expect.stringMatching(/^application\/json/), body: { error: expect.stringContaining('/no/such/route') } });
  });

  it('answers a Nest HTTP error thrown by its own controller with its status and an {"error"} body', async () => {
    expect(await get('/app/refused')).toEqual({ status: 400, type: expect.stringMatching(/^application\/json/), body: { error: 'amount must be positive' } });
  });

  it('answers an uncoded error 500 with an {"error"} body, no stack (debug off)', async () => {
    const res = await get('/app/broken');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toMatch(/at AppController/);
  });

  it('serves the models as usual', async () => {
    const res = await app.inject({ method: 'GET', url: '/v2/models/echo/ready' });
    expect(res.statusCode).toBe(200);
  });
});
