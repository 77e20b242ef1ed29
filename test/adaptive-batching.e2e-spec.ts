import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelRepository } from 'nest-model-server';
import { createExecutorFactory, ManualClock } from 'nest-model-server/testing';
import type { ExecutorObserver } from '../libs/model-server/src/internal';
import { PickyModel, RowDroppingModel, ThreadedDoubler } from './fixtures/worker-models';
import { createApp, send, type Answer } from './helpers/test-app';

const MODULE = require.resolve('./fixtures/worker-models');

/** Waits until the app has taken `n` requests into open batches (they are parsed asynchronously). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function row(values: number[]) {
  return { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, values.length], data: values }] };
}

describe.each([
  ['in process', {}],
  // A short kill grace: a batch whose deadline were one member's would have its worker ended under the others.
  ['in worker threads', { workers: 1, modulePath: MODULE, workerKillGraceMs: 100 }],
])('adaptive batching %s', (_where, placement) => {
  let app: NestFastifyApplication;
  const clock = new ManualClock();
  const batches: number[] = [];
  const waits: number[] = [];

  beforeAll(async () => {
    app = await createApp({
      modelControl: true,
      executorFactory: createExecutorFactory({ clock }),
      models: [
        { name: 'doubler', model: ThreadedDoubler, maxBatchSize: 4, maxLatencyMs: 10, ...placement },
        { name: 'dropper', model: RowDroppingModel, maxBatchSize: 4, maxLatencyMs: 10, ...placement },
        { name: 'picky', model: PickyModel, maxBatchSize: 8, maxLatencyMs: 10, ...placement },
      ],
    });
    const observer: ExecutorObserver = {
      batch: (model, _v, size) => model === 'doubler' && batches.push(size),
      queueWait: (model, _v, ms) => model === 'doubler' && waits.push(ms),
      queueDepth: () => undefined,
    };
    // Executors built from now on report here (a reload builds new ones).
    app.get(ModelRepository).setExecutorObserver(observer);
    await send(app, 'POST', '/v2/repository/models/doubler/load', {});
  });
  afterAll(() => app.close());

  it('merges single-row requests that arrive within the window into one predict call, each getting its own row', async () => {
    batches.length = 0;
    waits.length = 0;
    const pending = [1, 2, 3].map((v) => send(app, 'POST', '/v2/models/doubler/infer', { id: `r${v}`, ...row([v, -v]) }));
    await settle();
    clock.advance(10);
    const answers: Answer[] = await Promise.all(pending);
    for (const [i, res] of answers.entries()) {
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(`r${i + 1}`);
      expect(res.body.outputs[0]).toEqual({ name: 'y', datatype: 'FP32', shape: [1, 2], data: [2 * (i + 1), -2 * (i + 1)] });
      // The model saw all three rows in one call.
      expect(res.body.outputs[2].data).toEqual([3]);
    }
    expect(batches).toEqual([3]);
    // Each request's wait: the 10 ms window (plus, in worker threads, the moment it waited for the worker).
    expect(waits).toHaveLength(3);
    for (const w of waits) expect(w >= 10 && w < 1000).toBe(true);
  });

  it('sends a full batch at once, before its deadline', async () => {
    const pending = [1, 2, 3, 4].map((v) => send(app, 'POST', '/v2/models/doubler/infer', row([v])));
    await settle();
    const answers = await Promise.all(pending);
    expect(answers.map((r) => r.body.outputs[2].data[0])).toEqual([4, 4, 4, 4]);
  });

  it('keeps incompatible requests apart, and a request with many rows gets all of its rows back', async () => {
    const a = send(app, 'POST', '/v2/models/doubler/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }] });
    const b = send(app, 'POST', '/v2/models/doubler/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
    const c = send(app, 'POST', '/v2/models/doubler/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [5, 6] }] });
    await settle();
    clock.advance(10);
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    expect(ra.body.outputs[0]).toMatchObject({ shape: [2, 2], data: [2, 4, 6, 8] });
    expect(ra.body.outputs[2].data).toEqual([3, 3]);
    expect(rb.body.outputs[0]).toMatchObject({ shape: [1, 3], data: [2, 4, 6] });
    expect(rb.body.outputs[2].data).toEqual([1]);
    expect(rc.body.outputs[0]).toMatchObject({ shape: [1, 2], data: [10, 12] });
  });

  it('honours requested outputs per request inside a batch', async () => {
    const a = send(app, 'POST', '/v2/models/doubler/infer', { ...row([1]), outputs: [{ name: 'y' }] });
    const b = send(app, 'POST', '/v2/models/doubler/infer', { ...row([2]), outputs: [{ name: 'y' }] });
    await settle();
    clock.advance(10);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.body.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [1, 1], data: [2] }]);
    expect(rb.body.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [1, 1], data: [4] }]);
  });

  it('fails a batch loudly (500) when the model does not answer one row per input row', async () => {
    const pending = [1, 2].map((v) => send(app, 'POST', '/v2/models/dropper/infer', row([v])));
    await settle();
    clock.advance(10);
    for (const res of await Promise.all(pending)) {
      expect(res.status).toBe(500);
      expect(res.body.error).toMatch(/output 'y' must have the batch's 2 rows as its first dimension/);
    }
  });

  it('leaves out a request whose deadline passed while it waited; the others run together and get their rows', async () => {
    batches.length = 0;
    const late = send(app, 'POST', '/v2/models/doubler/infer', { id: 'late', ...row([1]) }, { 'x-request-timeout': '100ms' });
    const others = [2, 3].map((v) => send(app, 'POST', '/v2/models/doubler/infer', { id: `on-time-${v}`, ...row([v]) }));
    await settle();
    const refused = await late; // its own deadline answers it while the batch still waits
    expect(refused.status).toBe(504);
    clock.advance(10);
    const answers = await Promise.all(others);
    for (const [i, res] of answers.entries()) {
      expect(res.status === 200 ? 200 : res.body).toBe(200);
      expect(res.body.outputs[0].data).toEqual([2 * (i + 2)]);
      expect(res.body.outputs[2].data).toEqual([2]); // the model saw the two rows still wanted
    }
    expect(batches).toEqual([2]);
  });

  it('a request whose deadline passes during predict gets its own 504; the rest of the batch its results', async () => {
    const nap = { parameters: { nap_ms: 600 } };
    const short = send(app, 'POST', '/v2/models/doubler/infer', { ...row([1]), ...nap }, { 'x-request-timeout': '150ms' });
    const long = send(app, 'POST', '/v2/models/doubler/infer', { ...row([2]), ...nap }, { 'x-request-timeout': '20s' });
    const none = send(app, 'POST', '/v2/models/doubler/infer', { ...row([3]), ...nap });
    await settle();
    clock.advance(10);
    const [a, b, c] = await Promise.all([short, long, none]);
    expect(a.status).toBe(504);
    expect(a.body.error).toMatch(/deadline passed during predict/);
    expect(b.status === 200 ? 200 : b.body).toBe(200);
    expect(b.body.outputs[0].data).toEqual([4]);
    expect(b.body.outputs[2].data).toEqual([3]); // all three ran in one batch
    expect(c.status).toBe(200);
    expect(c.body.outputs[0].data).toEqual([6]);
  });

  it('gives each request of a failed batch its own answer: the bad one its 400, the others their results', async () => {
    const pending = [[1, 2], [-1, 0], [3, 4]].map((v) => send(app, 'POST', '/v2/models/picky/infer', row(v)));
    await settle();
    clock.advance(10);
    const [good, bad, good2] = await Promise.all(pending);
    expect(good.status).toBe(200);
    expect(good.body.outputs[0].data).toEqual([3]);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('row values must not be negative, got -1');
    expect(good2.body.outputs[0].data).toEqual([7]);
  });
});
