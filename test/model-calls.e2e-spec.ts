import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelServer, type InferenceRequest, type InferenceResult, type RequestContext } from 'nest-model-server';
import { type InferenceEvent, InferenceEventStream } from 'nest-model-server/monitoring';
import { EchoFixture, SumFixture } from './fixtures/test-models';
import { createApp, send } from './helpers/test-app';

/** Step 1 of a pipeline: doubles x, then hands it to `sum` through the data plane. */
class DoubleThenSum extends ModelServer {
  async predict(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    const x = request.inputs[0].data as Float32Array;
    const doubled = x.map((v) => v * 2);
    const res = await ctx.infer('sum', { inputs: [{ name: 'x', datatype: 'FP32', shape: [doubled.length], data: doubled }] });
    return { outputs: res.outputs, parameters: { via: res.model_name } };
  }
}

/** Calls itself forever: the depth limit must stop it. */
class Narcissus extends ModelServer {
  predict(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    return ctx.infer('narcissus', request);
  }
}

/** Calls another model from load (no request): through this.context.infer. */
class WarmedUp extends ModelServer {
  warm = 0;
  async load(): Promise<void> {
    const res = await this.context.infer('echo', { inputs: [{ name: 'w', datatype: 'INT32', shape: [1], data: [41] }] });
    this.warm = Number((res.outputs[0].data as Int32Array)[0]) + 1;
  }
  predict(): InferenceResult {
    return { outputs: [{ name: 'warm', datatype: 'INT32', shape: [1], data: [this.warm] }] };
  }
}

describe('in-process calls between models', () => {
  let app: NestFastifyApplication;
  const events: InferenceEvent[] = [];
  beforeAll(async () => {
    app = await createApp({
      models: [
        { name: 'echo', model: EchoFixture },
        { name: 'sum', model: SumFixture },
        { name: 'pipeline', model: DoubleThenSum },
        { name: 'narcissus', model: Narcissus },
      ],
    });
    app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
  });
  afterAll(() => app.close());

  it('a two-step pipeline runs the second model through the data plane (validation, hooks, monitoring)', async () => {
    events.length = 0;
    const res = await send(app, 'POST', '/v2/models/pipeline/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }] });
    expect(res.status).toBe(200);
    expect(res.body.parameters).toEqual({ via: 'sum' });
    expect(res.body.outputs[0]).toEqual({ name: 'sum', datatype: 'FP64', shape: [1], data: [6] });
    expect(events.map((e) => [e.model, e.protocol, e.status])).toEqual([
      ['sum', 'internal', 'ok'],
      ['pipeline', 'rest', 'ok'],
    ]);
  });

  it('the called model validates as for a client: its 400 reaches the caller', async () => {
    const res = await send(app, 'POST', '/v2/models/pipeline/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [-1] }] });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('x must not hold negative values');
  });

  it('a cycle is stopped by the depth limit with a clear 500', async () => {
    const res = await send(app, 'POST', '/v2/models/narcissus/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] });
    expect(res.status).toBe(500);
    expect(res.body.error).toMatch(/nest deeper than 8 levels.*cycle/);
  });

  it('model code can call other models from load through this.context', async () => {
    const warm = await createApp({
      loadMode: 'background',
      models: [
        { name: 'echo', model: EchoFixture },
        { name: 'warm', model: WarmedUp },
      ],
    });
    try {
      for (let i = 0; i < 100 && (await send(warm, 'GET', '/v2/models/warm/ready')).status !== 200; i++) await new Promise((r) => setTimeout(r, 10));
      const res = await send(warm, 'POST', '/v2/models/warm/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [0] }] });
      expect(res.body.outputs[0].data).toEqual([42]);
    } finally {
      await warm.close();
    }
  });
});
