import { Controller, Get, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { createFastifyAdapter, ModelServer, ModelServerModule, type InferenceResult } from 'nest-model-server';
import { ModelsHealthIndicator, withModelRoutes } from 'nest-model-server/integrations';
import { send } from './helpers/test-app';

class Ok extends ModelServer {
  inputs = [{ name: 'x', datatype: 'FP32' as const, shape: [-1] }];
  predict(): InferenceResult {
    return { outputs: [] };
  }
}

class Broken extends ModelServer {
  load(): void {
    throw new Error('weights file is missing');
  }

  predict(): InferenceResult {
    return { outputs: [] };
  }
}

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly models: ModelsHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.models.isHealthy('models')]);
  }
}

@Module({ imports: [TerminusModule], controllers: [HealthController], providers: [ModelsHealthIndicator] })
class HealthModule {}

@Controller('applicants')
class ApplicantsController {
  @Get()
  list(): string[] {
    return [];
  }
}

async function boot(models: { name: string; model: typeof Ok | typeof Broken }[]): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [ModelServerModule.forRoot({ models }), HealthModule], controllers: [ApplicantsController] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe('the model server in a Nest application\'s own stack', () => {
  describe('ModelsHealthIndicator (@nestjs/terminus)', () => {
    it('reports up with the ready models', async () => {
      const app = await boot([{ name: 'ok', model: Ok }]);
      try {
        const res = await send(app, 'GET', '/health');
        expect(res.status).toBe(200);
        expect(res.body.status).toBe('ok');
        expect(res.body.details.models).toEqual({ status: 'up', ready: ['ok'], pending: [], failed: {}, shuttingDown: false });
      } finally {
        await app.close();
      }
    });

    it('reports down (503) with each failed model\'s error', async () => {
      const app = await boot([{ name: 'ok', model: Ok }, { name: 'broken', model: Broken }]);
      try {
        const res = await send(app, 'GET', '/health');
        expect(res.status).toBe(503);
        expect(res.body.details.models).toMatchObject({ status: 'down', ready: ['ok'], failed: { broken: 'weights file is missing' } });
      } finally {
        await app.close();
      }
    });
  });

  describe('withModelRoutes (@nestjs/swagger)', () => {
    it('puts the model routes in the application\'s OpenAPI document, next to its own controllers', async () => {
      const app = await boot([{ name: 'ok', model: Ok }]);
      try {
        const document = withModelRoutes(app, SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('Scoring').build()));
        expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/applicants', '/v2/models/{model}/infer', '/v2/health/ready']));
        const infer = (document.paths['/v2/models/{model}/infer'] as unknown as { post: { requestBody: { content: { 'application/json': { examples: object } } } } }).post;
        expect(Object.keys(infer.requestBody.content['application/json'].examples)).toEqual(['ok']);
        expect(Object.keys(document.components?.schemas ?? {})).toEqual(expect.arrayContaining(['InferenceRequest', 'InferenceResponse', 'Error']));
        expect(document.tags?.map((t) => t.name)).toEqual(expect.arrayContaining(['models', 'server']));
        expect(() => withModelRoutes(app, document)).toThrow(/already has the path \/v2/);
      } finally {
        await app.close();
      }
    });
  });
});
