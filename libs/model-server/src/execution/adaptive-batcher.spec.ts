import { ErrorCode } from '../errors/error-code.enum';
import { ModelServerError } from '../errors/model-server.error';
import { ByteStrings } from '../model/byte-strings';
import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import { RequestContext } from '../model/request-context';
import type { Tensor } from '../model/tensor.interface';
import { AdaptiveBatcher } from './adaptive-batcher';
import { ManualClock } from './manual-clock';
import type { ExecutorObserver, ExecutorTarget, PredictExecutor } from './predict-executor.interface';

/** Records observer calls. */
class RecordingObserver implements ExecutorObserver {
  batches: number[] = [];
  waits: number[] = [];
  depths: number[] = [];
  batch(_m: string, _v: string | undefined, size: number): void {
    this.batches.push(size);
  }
  queueWait(_m: string, _v: string | undefined, ms: number): void {
    this.waits.push(ms);
  }
  queueDepth(_m: string, _v: string | undefined, depth: number): void {
    this.depths.push(depth);
  }
}

type Predict = (request: InferenceRequest, ctx: RequestContext) => InferenceResult | Promise<InferenceResult>;

/** The executor behind the batcher: runs `predict` and remembers every request it got. */
class RecordingExecutor implements PredictExecutor {
  seen: InferenceRequest[] = [];
  closed = false;
  constructor(private readonly predict: Predict) {}
  async run(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    this.seen.push(request);
    return this.predict(request, ctx);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Doubles `x` row by row and reports how many rows the call saw. */
const doubler: Predict = (request) => {
  const x = request.inputs[0];
  const data = x.data as Float32Array;
  return {
    outputs: [
      { name: 'y', datatype: 'FP32', shape: x.shape, data: data.map((v) => v * 2) },
      { name: 'rows', datatype: 'INT32', shape: [x.shape[0]], data: new Int32Array(x.shape[0]).fill(x.shape[0]) },
    ],
    parameters: { calls: 'one' },
  };
};

function fp32(rows: number[][], name = 'x'): Tensor {
  return { name, datatype: 'FP32', shape: [rows.length, rows[0]?.length ?? 0], data: Float32Array.from(rows.flat()) };
}

function ctx(id: string, deadline?: number): RequestContext {
  return new RequestContext(id, 'infer', deadline, undefined);
}

function setup(predict: Predict, options: Partial<{ maxBatchSize: number; maxLatencyMs: number; maxQueue: number }> = {}) {
  const clock = new ManualClock();
  const observer = new RecordingObserver();
  const inner = new RecordingExecutor(predict);
  const target = { name: 'm', version: undefined, observer } as unknown as ExecutorTarget;
  const batcher = new AdaptiveBatcher(inner, target, { maxBatchSize: 4, maxLatencyMs: 5, maxQueue: 100, clock, ...options });
  return { clock, observer, inner, batcher };
}

const flushPromises = () => new Promise((r) => setImmediate(r));

describe('AdaptiveBatcher', () => {
  it('merges compatible requests along the first dimension and gives each its own rows', async () => {
    const { clock, inner, batcher, observer } = setup(doubler);
    const a = batcher.run({ id: 'a', inputs: [fp32([[1, 2]])] }, ctx('a'));
    clock.advance(1);
    const b = batcher.run({ id: 'b', inputs: [fp32([[3, 4], [5, 6]])] }, ctx('b'));
    expect(inner.seen).toHaveLength(0);
    clock.advance(4);
    const [ra, rb] = await Promise.all([a, b]);
    expect(inner.seen).toHaveLength(1);
    expect(inner.seen[0].inputs[0].shape).toEqual([3, 2]);
    expect(Array.from(inner.seen[0].inputs[0].data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ra.outputs[0]).toMatchObject({ name: 'y', shape: [1, 2] });
    expect(Array.from(ra.outputs[0].data as Float32Array)).toEqual([2, 4]);
    expect(Array.from(rb.outputs[0].data as Float32Array)).toEqual([6, 8, 10, 12]);
    expect(rb.outputs[1]).toMatchObject({ name: 'rows', shape: [2] });
    expect(Array.from(rb.outputs[1].data as Int32Array)).toEqual([3, 3]);
    expect(ra.parameters).toEqual({ calls: 'one' });
    expect(observer.batches).toEqual([2]);
    expect(observer.waits).toEqual([5, 4]);
  });

  it('sends a batch at once when it is full, without waiting for its deadline', async () => {
    const { clock, inner, batcher } = setup(doubler, { maxBatchSize: 3 });
    const runs = [1, 2, 3].map((v) => batcher.run({ id: String(v), inputs: [fp32([[v]])] }, ctx(String(v))));
    expect(inner.seen).toHaveLength(1);
    expect(clock.pending).toBe(0);
    const results = await Promise.all(runs);
    expect(results.map((r) => Array.from(r.outputs[0].data as Float32Array))).toEqual([[2], [4], [6]]);
  });

  it('keeps one absolute deadline per batch: late joiners do not extend it', async () => {
    const { clock, inner, batcher } = setup(doubler, { maxLatencyMs: 10 });
    const first = batcher.run({ id: 'a', inputs: [fp32([[1]])] }, ctx('a'));
    clock.advance(8);
    const late = batcher.run({ id: 'b', inputs: [fp32([[2]])] }, ctx('b'));
    clock.advance(2); // 10 ms after the first request: the batch goes, though the second waited 2 ms only
    expect(inner.seen).toHaveLength(1);
    await Promise.all([first, late]);
    // A request after the flush opens a new batch with its own deadline.
    const next = batcher.run({ id: 'c', inputs: [fp32([[3]])] }, ctx('c'));
    clock.advance(9);
    expect(inner.seen).toHaveLength(1);
    clock.advance(1);
    expect(inner.seen).toHaveLength(2);
    await next;
  });

  it.each([
    ['trailing dimensions', { id: 'b', inputs: [fp32([[1, 2, 3]])] }],
    ['datatypes', { id: 'b', inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 2], data: new Float64Array([1, 2]) } as Tensor] }],
    ['input names', { id: 'b', inputs: [fp32([[1, 2]], 'z')] }],
    ['requested outputs', { id: 'b', inputs: [fp32([[1, 2]])], outputs: [{ name: 'y' }] }],
    ['request parameters', { id: 'b', inputs: [fp32([[1, 2]])], parameters: { temperature: 0.5 } }],
    ['input parameters', { id: 'b', inputs: [{ ...fp32([[1, 2]]), parameters: { scale: 2 } }] }],
  ])('never merges requests that differ in %s', async (_what, other: InferenceRequest) => {
    const { clock, inner, batcher } = setup(doubler);
    const a = batcher.run({ id: 'a', inputs: [fp32([[1, 2]])] }, ctx('a'));
    const b = batcher.run(other, ctx('b'));
    clock.advance(5);
    await Promise.all([a, b]);
    expect(inner.seen).toHaveLength(2);
    expect(inner.seen.map((r) => r.inputs[0].shape[0])).toEqual([1, 1]);
  });

  it('runs at once and alone a request it cannot merge (a scalar input, disagreeing first dimensions)', async () => {
    const { inner, batcher } = setup(doubler);
    const scalar: InferenceRequest = { id: 's', inputs: [{ name: 'x', datatype: 'FP32', shape: [], data: new Float32Array([1]) }] };
    const ragged: InferenceRequest = {
      id: 'r',
      inputs: [fp32([[1], [2]]), { name: 'w', datatype: 'FP32', shape: [3], data: new Float32Array(3) }],
    };
    await batcher.run(scalar, ctx('s')).catch(() => undefined);
    await batcher.run(ragged, ctx('r'));
    expect(inner.seen).toEqual([scalar, ragged]);
  });

  it('merges BYTES inputs and splits BYTES outputs', async () => {
    const echo: Predict = (request) => ({ outputs: request.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data })) });
    const { clock, batcher } = setup(echo);
    const bytes = (items: string[]): Tensor => ({ name: 's', datatype: 'BYTES', shape: [items.length], data: ByteStrings.from(items) });
    const a = batcher.run({ id: 'a', inputs: [bytes(['x'])] }, ctx('a'));
    const b = batcher.run({ id: 'b', inputs: [bytes(['y', 'z'])] }, ctx('b'));
    clock.advance(5);
    const [ra, rb] = await Promise.all([a, b]);
    expect((ra.outputs[0].data as ByteStrings).toStrings()).toEqual(['x']);
    expect((rb.outputs[0].data as ByteStrings).toStrings()).toEqual(['y', 'z']);
    expect(rb.outputs[0].shape).toEqual([2]);
  });

  it('fails every request of the batch loudly when an output does not have the batch rows as first dimension', async () => {
    const dropsRows: Predict = () => ({ outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [0] }] });
    const { clock, batcher } = setup(dropsRows);
    const runs = ['a', 'b'].map((id) => batcher.run({ id, inputs: [fp32([[1]])] }, ctx(id)));
    clock.advance(5);
    for (const run of runs) {
      await expect(run).rejects.toThrow(/output 'y' must have the batch's 2 rows as its first dimension.*shape \[1\]/);
      await expect(run).rejects.toMatchObject({ code: ErrorCode.ModelError });
    }
  });

  it('reruns a failed batch request by request, so each gets its own result or its own error', async () => {
    const picky: Predict = (request) => {
      const x = request.inputs[0].data as Float32Array;
      if (x.some((v) => v < 0)) throw new ModelServerError(ErrorCode.InvalidRequest, 'negative values are refused');
      return doubler(request, ctx('x'));
    };
    const { clock, inner, batcher } = setup(picky);
    const good = batcher.run({ id: 'good', inputs: [fp32([[1]])] }, ctx('good'));
    const bad = batcher.run({ id: 'bad', inputs: [fp32([[-1]])] }, ctx('bad'));
    const good2 = batcher.run({ id: 'good2', inputs: [fp32([[2]])] }, ctx('good2'));
    clock.advance(5);
    expect(Array.from((await good).outputs[0].data as Float32Array)).toEqual([2]);
    expect(Array.from((await good2).outputs[0].data as Float32Array)).toEqual([4]);
    await expect(bad).rejects.toThrow('negative values are refused');
    expect(inner.seen.map((r) => r.inputs[0].shape[0])).toEqual([3, 1, 1, 1]);
  });

  it('does not rerun when the batch failed for reasons that are not the model (full queue, shutdown)', async () => {
    const full: Predict = () => {
      throw new ModelServerError(ErrorCode.Overloaded, 'queue full', { retryAfterSeconds: 1 });
    };
    const { clock, inner, batcher } = setup(full);
    const runs = ['a', 'b'].map((id) => batcher.run({ id, inputs: [fp32([[1]])] }, ctx(id)));
    clock.advance(5);
    for (const run of runs) await expect(run).rejects.toMatchObject({ code: ErrorCode.Overloaded });
    expect(inner.seen).toHaveLength(1);
  });

  it('gives the batch the latest deadline of its requests (none when one has none) and shares predict metrics with each', async () => {
    let seen: RequestContext | undefined;
    const { clock, batcher } = setup((request, c) => {
      seen = c;
      c.setMetric('batch_rows', request.inputs[0].shape[0]);
      return doubler(request, c);
    });
    const ca = ctx('a', 2_000_000_000_000);
    const cb = ctx('b', 1_900_000_000_000);
    const runs = [batcher.run({ id: 'a', inputs: [fp32([[1]])] }, ca), batcher.run({ id: 'b', inputs: [fp32([[2]])] }, cb)];
    clock.advance(5);
    await Promise.all(runs);
    expect(seen!.deadline).toBe(2_000_000_000_000);
    expect(ca.metrics).toEqual({ batch_rows: 2 });
    expect(cb.metrics).toEqual({ batch_rows: 2 });
    const open = [batcher.run({ id: 'c', inputs: [fp32([[1]])] }, ctx('c', 2_000_000_000_000)), batcher.run({ id: 'd', inputs: [fp32([[2]])] }, ctx('d'))];
    clock.advance(5);
    await Promise.all(open);
    expect(seen!.deadline).toBeUndefined();
  });

  it('leaves out requests whose deadline passed or whose client went away while they waited', async () => {
    const { clock, inner, batcher, observer } = setup(doubler, { maxBatchSize: 8 });
    const gone = ctx('gone');
    const runs = [
      batcher.run({ id: 'late', inputs: [fp32([[1]])] }, ctx('late', Date.now() - 1)),
      batcher.run({ id: 'gone', inputs: [fp32([[2]])] }, gone),
      batcher.run({ id: 'a', inputs: [fp32([[3]])] }, ctx('a')),
      batcher.run({ id: 'b', inputs: [fp32([[4]])] }, ctx('b', Date.now() + 60_000)),
    ];
    gone.abort('the client went away');
    clock.advance(5);
    const [late, cancelled, a, b] = await Promise.allSettled(runs);
    expect(late).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.DeadlineExceeded } });
    expect(cancelled).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.Cancelled } });
    expect(a).toMatchObject({ status: 'fulfilled' });
    expect(b).toMatchObject({ status: 'fulfilled' });
    expect(inner.seen).toHaveLength(1);
    expect(inner.seen[0].inputs[0].shape).toEqual([2, 1]);
    expect(observer.batches).toEqual([2]);
  });

  it("fires the batch's signal once every request of it is aborted, not before", async () => {
    let batchSignal: AbortSignal | undefined;
    let finish: () => void = () => undefined;
    const { clock, batcher } = setup((request, c) => {
      batchSignal = c.signal;
      return new Promise((resolve) => (finish = () => resolve(doubler(request, c) as InferenceResult)));
    });
    const ca = ctx('a');
    const cb = ctx('b');
    const runs = [batcher.run({ id: 'a', inputs: [fp32([[1]])] }, ca), batcher.run({ id: 'b', inputs: [fp32([[2]])] }, cb)];
    clock.advance(5);
    await flushPromises();
    ca.abort('its deadline passed');
    expect(batchSignal!.aborted).toBe(false);
    cb.abort('the client went away');
    expect(batchSignal!.aborted).toBe(true);
    finish();
    await Promise.all(runs);
  });

  it('refuses requests past maxQueue with an Overloaded error (503, Retry-After)', async () => {
    const { clock, batcher } = setup(doubler, { maxQueue: 2, maxBatchSize: 10 });
    const runs = ['a', 'b'].map((id) => batcher.run({ id, inputs: [fp32([[1]])] }, ctx(id)));
    await expect(batcher.run({ id: 'c', inputs: [fp32([[1]])] }, ctx('c'))).rejects.toMatchObject({
      code: ErrorCode.Overloaded,
      retryAfterSeconds: 1,
    });
    clock.advance(5);
    await Promise.all(runs);
  });

  it('sends open batches when it closes, then closes the executor behind it', async () => {
    const { batcher, inner } = setup(doubler, { maxLatencyMs: 1000 });
    const run = batcher.run({ id: 'a', inputs: [fp32([[1]])] }, ctx('a'));
    await batcher.close();
    expect(Array.from((await run).outputs[0].data as Float32Array)).toEqual([2]);
    expect(inner.closed).toBe(true);
    await expect(batcher.run({ id: 'b', inputs: [fp32([[1]])] }, ctx('b'))).rejects.toMatchObject({ code: ErrorCode.NotReady });
  });

  it('runs a lone request of a batch with its own request and context, unchanged', async () => {
    const { clock, inner, batcher } = setup(doubler);
    const request: InferenceRequest = { id: 'a', inputs: [fp32([[1, 2]])] };
    const run = batcher.run(request, ctx('a'));
    clock.advance(5);
    await run;
    await flushPromises();
    expect(inner.seen).toEqual([request]);
  });
});
