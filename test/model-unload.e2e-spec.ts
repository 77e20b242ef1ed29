import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelServer, type InferenceRequest, type InferenceResult } from 'nest-model-server';
import { createApp, send } from './helpers/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes `pre_ms` in preprocess and `ms` in predict; records when its requests finish and when it is unloaded. */
class Draining extends ModelServer {
  static log: string[] = [];
  static loads = 0;
  private generation = 0;

  load(): void {
    this.generation = ++Draining.loads;
  }

  async preprocess(request: InferenceRequest): Promise<InferenceRequest> {
    await sleep(Number(request.parameters?.pre_ms ?? 0));
    return request;
  }

  async predict(request: InferenceRequest): Promise<InferenceResult> {
    await sleep(Number(request.parameters?.ms ?? 0));
    Draining.log.push(`answered ${request.id}`);
    return { outputs: [{ name: 'generation', datatype: 'INT32', shape: [1], data: [this.generation] }] };
  }

  unload(): void {
    Draining.log.push(`unloaded generation ${this.generation}`);
  }
}

const body = (id: string, parameters: Record<string, number> = {}) => ({ id, parameters, inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] });

describe('unloading waits for the requests in flight', () => {
  let app: NestFastifyApplication;
  beforeEach(async () => {
    Draining.log = [];
    Draining.loads = 0;
    app = await createApp({
      modelControl: true,
      models: [
        { name: 'draining', model: Draining },
        { name: 'impatient', model: Draining, unloadWaitMs: 100 },
      ],
    });
  });
  afterEach(() => app.close());

  it.each([
    ['in predict', { ms: 400 }],
    ['in preprocess', { pre_ms: 400 }],
  ])('a request running %s when the unload starts succeeds; new ones answer 503; the unload completes afterwards', async (_where, timing) => {
    const slow = send(app, 'POST', '/v2/models/draining/infer', body('slow', timing));
    await sleep(100);
    let unloaded = false;
    const unload = send(app, 'POST', '/v2/repository/models/draining/unload', {}).then((r) => {
      unloaded = true;
      Draining.log.push('unload answered');
      return r;
    });
    await sleep(20);
    const refused = await send(app, 'POST', '/v2/models/draining/infer', body('late'));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body.error).toMatch(/model 'draining' is not ready \(unloading\)/);
    expect((await send(app, 'GET', '/v2/models/draining/ready')).status).toBe(503);
    expect(unloaded).toBe(false);

    const answer = await slow;
    expect(answer.status === 200 ? 200 : answer.body).toBe(200);
    expect(answer.body.outputs[0].data).toEqual([1]);
    expect((await unload).status).toBe(200);
    expect(Draining.log).toEqual(['answered slow', 'unloaded generation 1', 'unload answered']);
    const meta = await send(app, 'GET', '/v2/models/draining');
    expect(meta.body.state).toBe('unloaded');
  });

  it('a reload sends new requests to the new instance and unloads the old one once its requests are done', async () => {
    const slow = send(app, 'POST', '/v2/models/draining/infer', body('slow', { pre_ms: 300 }));
    await sleep(50);
    const reload = send(app, 'POST', '/v2/repository/models/draining/load', {});
    await sleep(50);
    const fresh = await send(app, 'POST', '/v2/models/draining/infer', body('fresh'));
    expect(fresh.status).toBe(200);
    expect(fresh.body.outputs[0].data).toEqual([3]); // both models loaded once at boot: this is the third instance
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body.outputs[0].data).toEqual([1]); // finished on the instance it started on
    expect((await reload).status).toBe(200);
    expect(Draining.log).toEqual(['answered fresh', 'answered slow', 'unloaded generation 1']);
  });

  it('waits no longer than unloadWaitMs; the request still running gets its own answer, never a null instance', async () => {
    const slow = send(app, 'POST', '/v2/models/impatient/infer', body('slow', { pre_ms: 600 }));
    await sleep(50);
    const started = Date.now();
    expect((await send(app, 'POST', '/v2/repository/models/impatient/unload', {})).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(550);
    expect(Draining.log).toEqual(['unloaded generation 2']);
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body.outputs[0].data).toEqual([2]);
  });
});
