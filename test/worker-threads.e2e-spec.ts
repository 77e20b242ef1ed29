import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { threadId } from 'node:worker_threads';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import { CrashingModel, FailingWorkerModel, LoadedStateModel, LoopingModel, SlowModel, ThreadedDoubler, ThreadedEcho } from './fixtures/worker-models';
import { createApp, send } from './helpers/test-app';

const MODULE = require.resolve('./fixtures/worker-models');

function framed(header: unknown, ...tails: Buffer[]): { payload: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return { payload: Buffer.concat([json, ...tails]), headers: { 'inference-header-content-length': String(json.length) } };
}

function splitBinary(raw: Buffer, headers: Record<string, unknown>): { header: any; tail: Buffer } {
  const n = Number(headers['inference-header-content-length']);
  return { header: JSON.parse(raw.subarray(0, n).toString()), tail: raw.subarray(n) };
}

describe('worker threads (workers: N)', () => {
  let app: NestFastifyApplication;
  const events: InferenceEvent[] = [];

  beforeAll(async () => {
    app = await createApp({
      modelControl: true,
      models: [
        { name: 'doubler', model: ThreadedDoubler, modulePath: MODULE, workers: 2 },
        { name: 'echo', model: ThreadedEcho, modulePath: MODULE, workers: 1 },
        { name: 'crashy', model: CrashingModel, modulePath: MODULE, workers: 1 },
        { name: 'slow', model: SlowModel, modulePath: MODULE, workers: 1, maxQueue: 1 },
        { name: 'broken', model: FailingWorkerModel, modulePath: MODULE, workers: 1 },
        { name: 'lean', model: LoadedStateModel, modulePath: MODULE, workers: 1 },
        { name: 'loaded-here-too', model: LoadedStateModel, modulePath: MODULE, workers: 1, loadInMainThread: true },
      ],
    });
    app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
  });
  afterAll(() => app.close());

  const matrix = (rows: number, cols: number, start = 1) =>
    Array.from({ length: rows * cols }, (_, i) => start + i);

  it('runs predict in worker threads, each with its own loaded instance, spreading requests over them', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        send(app, 'POST', '/v2/models/doubler/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: matrix(1, 3, i) }] }),
      ),
    );
    for (const [i, res] of answers.entries()) {
      expect(res.status).toBe(200);
      expect(res.body.outputs[0]).toEqual({ name: 'y', datatype: 'FP32', shape: [1, 3], data: matrix(1, 3, i).map((v) => v * 2) });
      const worker = res.body.outputs[1].data[0];
      expect(worker).not.toBe(threadId);
      // The instance that answered was loaded in that same worker thread.
      expect(res.body.parameters.loaded_in).toBe(worker);
    }
    expect(new Set(answers.map((r) => r.body.outputs[1].data[0])).size).toBe(2);
  });

  it('carries ctx.state from the main-thread hooks to predict, and predict metrics back to monitoring', async () => {
    events.length = 0;
    const res = await send(app, 'POST', '/v2/models/doubler/infer', {
      id: 'with-state',
      parameters: { tag: 'from-preprocess' },
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }],
    });
    expect(res.status).toBe(200);
    expect(res.body.parameters.state_seen).toBe('from-preprocess');
    const event = events.find((e) => e.id === 'with-state')!;
    expect(event.metrics).toMatchObject({ rows_seen: 2 });
    // The model-level metric set by load() in the worker shows on the main thread's records.
    expect(typeof event.metrics.loaded_in_thread).toBe('number');
    // The request's tensors came back from the worker intact (their buffers were moved there and back).
    expect(Array.from(event.request!.inputs[0].data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it('reports metadata from the instances loaded in the workers', async () => {
    const res = await send(app, 'GET', '/v2/models/doubler');
    expect(res.status).toBe(200);
    expect(res.body.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, -1] }]);
  });

  it('moves every datatype to a worker and back, JSON and binary, BYTES with non-UTF-8 bytes, empty tensors', async () => {
    const bytes = Buffer.concat([Buffer.from([3, 0, 0, 0, 0xff, 0x00, 0xfe]), Buffer.from([2, 0, 0, 0]), Buffer.from('ok')]);
    const i64 = Buffer.from(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]).buffer);
    const f64 = Buffer.from(new Float64Array([Math.PI, -0]).buffer);
    const body = framed(
      {
        parameters: { binary_data_output: true },
        inputs: [
          { name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: bytes.length } },
          { name: 'i', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } },
          { name: 'd', datatype: 'FP64', shape: [2], parameters: { binary_data_size: 16 } },
          { name: 'b', datatype: 'BOOL', shape: [3], data: [true, false, true] },
          { name: 'h', datatype: 'FP16', shape: [2], data: [1.5, -2] },
          { name: 'u', datatype: 'UINT64', shape: [1], data: [18446744073709551615n.toString()] },
          { name: 'e', datatype: 'FP32', shape: [0, 4], data: [] },
        ].map((t) => (t.name === 'u' ? { ...t, data: undefined, parameters: { binary_data_size: 8 } } : t)),
      },
      bytes,
      i64,
      f64,
      Buffer.from(new BigUint64Array([2n ** 64n - 1n]).buffer),
    );
    const res = await app.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: body.payload, headers: body.headers });
    expect(res.statusCode === 200 ? 200 : res.body).toBe(200);
    const { header, tail } = splitBinary(res.rawPayload, res.headers);
    expect(header.outputs.map((o: any) => [o.name, o.datatype, o.shape, o.parameters.binary_data_size])).toEqual([
      ['s', 'BYTES', [2], bytes.length],
      ['i', 'INT64', [2], 16],
      ['d', 'FP64', [2], 16],
      ['b', 'BOOL', [3], 3],
      ['h', 'FP16', [2], 4],
      ['u', 'UINT64', [1], 8],
      ['e', 'FP32', [0, 4], 0],
    ]);
    expect(tail.subarray(0, bytes.length)).toEqual(bytes);
    expect(tail.subarray(bytes.length, bytes.length + 16)).toEqual(i64);
    expect(tail.subarray(bytes.length + 16, bytes.length + 32)).toEqual(f64);
    expect([...tail.subarray(bytes.length + 32, bytes.length + 35)]).toEqual([1, 0, 1]);
    expect(tail.readBigUInt64LE(bytes.length + 39)).toBe(2n ** 64n - 1n);
  });

  it('keeps 64-bit integers exact through a worker over JSON', async () => {
    const res = await send(
      app,
      'POST',
      '/v2/models/echo/infer',
      `{"inputs":[{"name":"i","datatype":"INT64","shape":[2],"data":[-9223372036854775808,9223372036854775807]}]}`,
      { 'content-type': 'application/json' },
    );
    expect(res.status).toBe(200);
    expect(res.body.outputs[0].data).toEqual([-(2n ** 63n), 2n ** 63n - 1n]);
  });

  it('keeps the codes of errors thrown in the worker', async () => {
    const refused = await send(app, 'POST', '/v2/models/crashy/infer', {
      parameters: { crash: 'refuse' },
      inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('refused by the model');
    const bug = await send(app, 'POST', '/v2/models/crashy/infer', {
      parameters: { crash: 'bug' },
      inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }],
    });
    expect(bug.status).toBe(500);
    // The model's own error text stays in the server log (and in answers only in debug mode).
    expect(bug.body.error).toMatch(/^model 'crashy' failed in predict \(request [^)]+\); details are in the server log$/);
  });

  it.each([
    ['exits', 'exit', /exited with code 3/],
    ['throws outside predict', 'throw-async', /boom in a timer/],
  ])('a worker that %s fails its request with a clear 500, is replaced, and the model stays ready', async (_what, crash, reason) => {
    const crashed = await send(app, 'POST', '/v2/models/crashy/infer', {
      parameters: { crash },
      inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }],
    });
    expect(crashed.status).toBe(500);
    expect(crashed.body.error).toMatch(/worker thread 1 crashed while running predict \(request [^)]+\).*details are in the server log/);
    // Why it crashed is the model's business: in the log, not in the answer.
    expect(crashed.body.error).not.toMatch(reason);
    expect((await send(app, 'GET', '/v2/models/crashy/ready')).status).toBe(200);
    const next = await send(app, 'POST', '/v2/models/crashy/infer', { inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] });
    expect(next.status).toBe(200);
    expect(next.body.outputs[0].data[0]).not.toBe(threadId);
  });

  it('keeps answering health checks and other models while predict is busy in a worker', async () => {
    let slowDone = false;
    const slow = send(app, 'POST', '/v2/models/slow/infer', {
      parameters: { ms: 400 },
      inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }],
    }).then((r) => {
      slowDone = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    const live = await send(app, 'GET', '/v2/health/live');
    const other = await send(app, 'POST', '/v2/models/doubler/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] });
    expect(live.status).toBe(200);
    expect(other.status).toBe(200);
    expect(slowDone).toBe(false);
    expect((await slow).status).toBe(200);
  });

  it('refuses requests beyond the bounded queue with 503 and Retry-After', async () => {
    const request = { parameters: { ms: 300 }, inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] };
    const running = send(app, 'POST', '/v2/models/slow/infer', request);
    await new Promise((r) => setImmediate(r));
    const queued = send(app, 'POST', '/v2/models/slow/infer', request);
    await new Promise((r) => setImmediate(r));
    const refused = await send(app, 'POST', '/v2/models/slow/infer', request);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body.error).toMatch(/overloaded.*maxQueue/);
    expect((await running).status).toBe(200);
    expect((await queued).status).toBe(200);
  });

  it('a model whose worker cannot load is failed, with the reason in its metadata; the others serve', async () => {
    const meta = await send(app, 'GET', '/v2/models/broken');
    expect(meta.body.state).toBe('failed');
    expect(meta.body.error).toMatch(/worker thread 1 of 1 could not load the model: cannot open weights.bin/);
    expect((await send(app, 'GET', '/v2/models/broken/ready')).status).toBe(503);
  });

  it('does not load the model on the main thread unless loadInMainThread is set', async () => {
    const x = { inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] };
    const leanPredict = await send(app, 'POST', '/v2/models/lean/infer', x);
    expect(leanPredict.body.outputs[0].data[0]).not.toBe(threadId); // loaded in its worker
    const leanExplain = await send(app, 'POST', '/v2/models/lean/explain', x);
    expect(leanExplain.body.outputs[0].data).toEqual([-1]); // the main thread's instance never loaded
    const both = await send(app, 'POST', '/v2/models/loaded-here-too/explain', x);
    expect(both.body.outputs[0].data).toEqual([threadId]);
  });

  it('unloads (ending the workers) and loads again', async () => {
    expect((await send(app, 'POST', '/v2/repository/models/echo/unload', {})).status).toBe(200);
    expect((await send(app, 'GET', '/v2/models/echo/ready')).status).toBe(503);
    expect((await send(app, 'POST', '/v2/repository/models/echo/load', {})).status).toBe(200);
    const res = await send(app, 'POST', '/v2/models/echo/infer', { inputs: [{ name: 'x', datatype: 'INT8', shape: [1], data: [-3] }] });
    expect(res.status).toBe(200);
    expect(res.body.outputs[0].data).toEqual([-3]);
  });
});

describe('worker threads: configuration', () => {
  it('refuses workers without modulePath at boot, naming the setting', async () => {
    await expect(createApp({ models: [{ name: 'x', model: ThreadedEcho, workers: 2 }] })).rejects.toThrow(/models\[0\]\.modulePath: workers: 2/);
  });

  it('refuses invalid execution settings at boot', async () => {
    await expect(
      createApp({ models: [{ name: 'x', model: ThreadedEcho, workers: -1, maxBatchSize: 0, maxLatencyMs: -5 }] }),
    ).rejects.toThrow(/workers[\s\S]*maxBatchSize[\s\S]*maxLatencyMs/);
  });

  it('fails the model clearly when className names a different class', async () => {
    const app = await createApp({ models: [{ name: 'x', model: ThreadedEcho, modulePath: MODULE, className: 'SlowModel', workers: 1 }] });
    try {
      const meta = await send(app, 'GET', '/v2/models/x');
      expect(meta.body.state).toBe('failed');
      expect(meta.body.error).toMatch(/exports 'SlowModel' as class SlowModel, but the main thread serves ThreadedEcho/);
    } finally {
      await app.close();
    }
  });
});

describe('worker threads: a worker stuck past its deadline', () => {
  const x = { name: 'x', datatype: 'INT32', shape: [1], data: [1] };

  it('is terminated workerKillGraceMs after the deadline and replaced: later requests succeed and its core is released', async () => {
    const app = await createApp({ models: [{ name: 'loop', model: LoopingModel, modulePath: MODULE, workers: 1, workerKillGraceMs: 200 }] });
    try {
      const first = await send(app, 'POST', '/v2/models/loop/infer', { inputs: [x] });
      expect(first.status).toBe(200);
      const stuck = await send(app, 'POST', '/v2/models/loop/infer', { parameters: { loop: true }, inputs: [x] }, { 'x-request-timeout': '200ms' });
      expect(stuck.status).toBe(504);
      // Waits behind the stuck worker, then runs on its replacement (a new thread).
      const next = await send(app, 'POST', '/v2/models/loop/infer', { inputs: [x] }, { 'x-request-timeout': '10s' });
      expect(next.status === 200 ? 200 : next.body).toBe(200);
      expect(next.body.outputs[0].data[0]).not.toBe(first.body.outputs[0].data[0]);
      expect((await send(app, 'GET', '/v2/models/loop/ready')).status).toBe(200);
      // No thread of this process spins any more: over a second it uses well under a core.
      const before = process.cpuUsage();
      const started = performance.now();
      await new Promise((r) => setTimeout(r, 1000));
      const used = process.cpuUsage(before);
      expect((used.user + used.system) / 1000).toBeLessThan(0.5 * (performance.now() - started));
    } finally {
      await app.close();
    }
  });
});
