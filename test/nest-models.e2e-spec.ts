import { join } from 'node:path';
import { Inject, Injectable, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  createFastifyAdapter,
  ModelServer,
  ModelServerModule,
  modelsFromConfig,
  type InferenceRequest,
  type InferenceResult,
  type ModelServerModuleOptions,
} from 'nest-model-server';
import { ThreadedDoubler } from './fixtures/worker-models';
import { send } from './helpers/test-app';

/** A provider of the application's own, which models receive through their constructors. */
@Injectable()
class Multiplier {
  factor = 3;
}

const GREETING = Symbol('greeting');

@Injectable()
class ScaledModel extends ModelServer {
  loadedWith = '';
  constructor(
    private readonly multiplier: Multiplier,
    @Inject(GREETING) private readonly greeting: string,
  ) {
    super();
  }

  load(): void {
    this.loadedWith = `${this.greeting} ${this.context.name}`;
  }

  predict(req: InferenceRequest): InferenceResult {
    const x = req.inputs[0].data as Float64Array;
    return {
      outputs: [{ name: 'y', datatype: 'FP64', shape: req.inputs[0].shape, data: Float64Array.from(x, (v) => v * this.multiplier.factor) }],
      parameters: { loaded_with: this.loadedWith },
    };
  }
}

/** Built by a factory from the providers it names. */
class OffsetModel extends ModelServer {
  constructor(readonly offset: number) {
    super();
  }

  predict(req: InferenceRequest): InferenceResult {
    const x = req.inputs[0].data as Float64Array;
    return { outputs: [{ name: 'y', datatype: 'FP64', shape: req.inputs[0].shape, data: Float64Array.from(x, (v) => v + this.offset) }] };
  }
}

/** Takes a parameter Nest cannot see the type of (no decorator). */
class Undecorated extends ModelServer {
  constructor(readonly factor: number) {
    super();
  }

  predict(): InferenceResult {
    return { outputs: [] };
  }
}

const body = { inputs: [{ name: 'x', datatype: 'FP64', shape: [2], data: [1, 2] }] };

@Module({ providers: [Multiplier, { provide: GREETING, useValue: 'feature' }], imports: [ModelServerModule.forFeature({ models: [{ name: 'feature-scaled', model: ScaledModel }] })] })
class ScoringModule {}

@Module({ providers: [Multiplier, { provide: GREETING, useValue: 'other' }], imports: [ModelServerModule.forFeature({ models: [{ name: 'root-scaled', model: ScaledModel }] })] })
class ClashingModule {}

async function boot(imports: unknown[], providers: unknown[] = []): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports: imports as never[], providers: providers as never[] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

const rootOptions = (models: ModelServerModuleOptions['models']): ModelServerModuleOptions => ({ models });

describe('models as Nest providers', () => {
  describe('from forRoot, forFeature and useFactory in one application', () => {
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await boot(
        [
          ModelServerModule.forRoot(
            rootOptions([
              { name: 'root-scaled', model: ScaledModel },
              {
                name: 'offset',
                model: OffsetModel,
                useFactory: (m: Multiplier, g: string, absent?: unknown) => new OffsetModel(m.factor * 100 + g.length + (absent === undefined ? 0 : 1000)),
                inject: [Multiplier, GREETING, { token: 'not-provided', optional: true }],
              },
              { name: 'plain', model: ThreadedDoubler },
              { name: 'undecorated', model: Undecorated },
            ]),
          ),
          ScoringModule,
        ],
        [Multiplier, { provide: GREETING, useValue: 'root' }],
      );
    });
    afterAll(() => app?.close());

    it('injects the registering module\'s providers into a forRoot model, with its context from load() on', async () => {
      const res = await send(app, 'POST', '/v2/models/root-scaled/infer', body);
      expect(res.status).toBe(200);
      expect(res.body.outputs[0].data).toEqual([3, 6]);
      expect(res.body.parameters).toEqual({ loaded_with: 'root root-scaled' });
    });

    it('builds a forFeature model in its feature module, with that module\'s providers', async () => {
      const res = await send(app, 'POST', '/v2/models/feature-scaled/infer', body);
      expect(res.status).toBe(200);
      expect(res.body.parameters).toEqual({ loaded_with: 'feature feature-scaled' });
      expect((await send(app, 'GET', '/v2/models')).body.models.map((m: { name: string }) => m.name).sort()).toEqual(
        ['feature-scaled', 'offset', 'plain', 'root-scaled', 'undecorated'],
      );
    });

    it('builds a model with useFactory from the providers in inject (an optional one absent)', async () => {
      const res = await send(app, 'POST', '/v2/models/offset/infer', body);
      expect(res.status).toBe(200);
      expect(res.body.outputs[0].data).toEqual([305, 306]);
    });

    it('builds a class without dependencies as before', async () => {
      const res = await send(app, 'POST', '/v2/models/plain/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });
      expect(res.status).toBe(200);
      expect(res.body.outputs[0].data).toEqual([2, 4]);
    });

    it('fails the load of a class whose constructor parameters Nest cannot see, saying how to fix it', async () => {
      const res = await send(app, 'GET', '/v2/models/undecorated/ready');
      expect(res.status).toBe(503);
      const meta = await send(app, 'GET', '/v2/models/undecorated');
      expect(JSON.stringify(meta.body)).toContain('mark the class @Injectable()');
    });

    it('builds a fresh instance through the injector on each reload', async () => {
      const appWithControl = await boot([ModelServerModule.forRoot({ modelControl: true, models: [{ name: 's', model: ScaledModel }] })], [Multiplier, { provide: GREETING, useValue: 'again' }]);
      try {
        expect((await send(appWithControl, 'POST', '/v2/repository/models/s/load', {})).status).toBe(200);
        const res = await send(appWithControl, 'POST', '/v2/models/s/infer', body);
        expect(res.body.parameters).toEqual({ loaded_with: 'again s' });
      } finally {
        await appWithControl.close();
      }
    });
  });

  it('mixes the forRoot models of a dynamic module (as the CLI\'s AppModule.forConfig composes them) with forFeature ones', async () => {
    class ServerModule {}
    const app = await boot([
      {
        module: ServerModule,
        imports: [ModelServerModule.forRoot(rootOptions([{ name: 'from-config', model: ScaledModel }])), ScoringModule],
        providers: [Multiplier, { provide: GREETING, useValue: 'config' }],
      },
    ]);
    try {
      expect((await send(app, 'POST', '/v2/models/from-config/infer', body)).body.parameters).toEqual({ loaded_with: 'config from-config' });
      expect((await send(app, 'POST', '/v2/models/feature-scaled/infer', body)).body.parameters).toEqual({ loaded_with: 'feature feature-scaled' });
    } finally {
      await app.close();
    }
  });

  describe('a config file in the root module (modelsFromConfig) with forFeature models', () => {
    const CONFIG = join(__dirname, 'fixtures', 'nest-config-models.yaml');
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await boot([ModelServerModule.forRootAsync({ useFactory: () => ({ models: modelsFromConfig(CONFIG) }) }), ScoringModule]);
    });
    afterAll(() => app?.close());

    it('serves the file\'s model, its class loaded and settings applied as the CLI does', async () => {
      const res = await send(app, 'POST', '/v2/models/echo/infer', body);
      expect(res.status).toBe(200);
      expect(res.body.outputs[0]).toMatchObject({ name: 'x', datatype: 'FP64', data: [1, 2] });
      const listed = (await send(app, 'GET', '/v2/models')).body.models.find((m: { name: string }) => m.name === 'echo');
      expect(listed.labels).toEqual({ source: 'config-file' });
    });

    it('serves the feature module\'s model beside them, built with that module\'s providers', async () => {
      const res = await send(app, 'POST', '/v2/models/feature-scaled/infer', body);
      expect(res.status).toBe(200);
      expect(res.body.parameters).toEqual({ loaded_with: 'feature feature-scaled' });
      expect((await send(app, 'GET', '/v2/models')).body.models.map((m: { name: string }) => m.name).sort()).toEqual(['both', 'echo', 'feature-scaled', 'ghost-router']);
    });

    it('checks the file\'s routers against every module\'s models: a forFeature member serves, a missing one fails the router alone', async () => {
      const res = await send(app, 'POST', '/v2/models/both/infer', body);
      expect(res.status).toBe(200);
      expect(res.body.outputs.map((o: { name: string }) => o.name)).toEqual(['echo.x', 'feature-scaled.y']);
      expect(res.body.outputs[1].data).toEqual([3, 6]);
      expect((await send(app, 'GET', '/v2/models/ghost-router')).body).toMatchObject({
        state: 'failed',
        error: "router 'ghost-router': member 'ghost' calls model 'ghost', which is not configured",
      });
    });

    it('refuses a name in both the config file and a forFeature, naming the file and the module', async () => {
      @Module({ imports: [ModelServerModule.forFeature({ models: [{ name: 'echo', model: ThreadedDoubler }] })] })
      class EchoFeatureModule {}
      await expect(boot([ModelServerModule.forRoot({ models: modelsFromConfig(CONFIG) }), EchoFeatureModule])).rejects.toThrow(
        /model 'echo' is registered by both RootTestModule \(forRoot, from \/.*\/test\/fixtures\/nest-config-models\.yaml\) and EchoFeatureModule \(forFeature\)/,
      );
    });
  });

  it('refuses at boot a model with constructor dependencies in worker threads, saying why', async () => {
    const boot2 = boot([ModelServerModule.forRoot(rootOptions([{ name: 'threaded', model: ScaledModel, workers: 2, modulePath: __filename }]))], [Multiplier, { provide: GREETING, useValue: 'x' }]);
    await expect(boot2).rejects.toThrow(/models\[0\] \('threaded'\): workers: 2 builds the model in each worker thread .*ScaledModel's constructor asks for Multiplier, Symbol\(greeting\).*cannot inject into another thread/s);
  });

  it('refuses at boot a useFactory model in worker threads', async () => {
    const boot2 = boot([ModelServerModule.forRoot(rootOptions([{ name: 'f', model: OffsetModel, useFactory: () => new OffsetModel(1), workers: 1, modulePath: __filename }]))]);
    await expect(boot2).rejects.toThrow(/workers: 1 .* the model is built by its useFactory/s);
  });

  it('refuses a model name registered by two modules, naming both', async () => {
    const boot2 = boot([ModelServerModule.forRoot(rootOptions([{ name: 'root-scaled', model: ScaledModel }])), ClashingModule], [Multiplier, { provide: GREETING, useValue: 'x' }]);
    await expect(boot2).rejects.toThrow(/model 'root-scaled' is registered by both RootTestModule \(forRoot\) and ClashingModule \(forFeature\)/);
  });

  it('refuses forFeature without forRoot', async () => {
    await expect(boot([ScoringModule])).rejects.toThrow(/forFeature contributes models to the server of ModelServerModule.forRoot/);
  });

  it('reports a useFactory that returns something else than the model\'s class', async () => {
    const app = await boot([ModelServerModule.forRoot(rootOptions([{ name: 'wrong', model: ScaledModel, useFactory: () => new OffsetModel(1) }]))]);
    try {
      const meta = await send(app, 'GET', '/v2/models/wrong');
      expect(JSON.stringify(meta.body)).toContain('useFactory returned an instance of OffsetModel, not an instance of ScaledModel');
    } finally {
      await app.close();
    }
  });
});
