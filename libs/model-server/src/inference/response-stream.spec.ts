import { Logger } from '@nestjs/common';
import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import { ErrorCode } from '../errors/error-code.enum';
import { inProcessExecutor } from '../execution';
import { ModelServer, type InferenceRequest, type InferenceResult, type RequestContext } from '../model';
import type { CancellationSource } from '../model/request-context';
import { ModelRepository } from '../repository/model-repository';
import { DataPlane } from './data-plane';
import { InferenceEventStream } from './inference-event-stream';
import type { InferenceEvent } from './inference-event.interface';
import { DEFAULT_REQUEST_LIMITS } from './request-limits';

/** Counts: `n` parts of text, each awaiting the test's pace when gated; records what it produced and whether it was closed. */
class Counter extends ModelServer {
  static produced = 0;
  static closed = 0;
  static gate: Promise<void> | null = null;

  async *predictStream(request: InferenceRequest, ctx: RequestContext): AsyncIterable<InferenceResult> {
    const n = Number(request.parameters?.n ?? 3);
    try {
      for (let i = 0; i < n; i++) {
        if (Counter.gate !== null) await Counter.gate;
        if (ctx.signal.aborted) return;
        Counter.produced++;
        yield { outputs: [{ name: 'text_output', datatype: 'BYTES', shape: [1], data: [`w${i} `] }] };
      }
    } finally {
      Counter.closed++;
    }
  }

  postprocess(result: InferenceResult): InferenceResult {
    const text = String((result.outputs[0].data as string[])[0]);
    return { outputs: [{ name: 'text_output', datatype: 'BYTES', shape: [1], data: [text.toUpperCase()] }] };
  }
}

class Plain extends ModelServer {
  predict(request: InferenceRequest): InferenceResult {
    return { outputs: request.inputs.map((t) => ({ ...t })) };
  }
}

class Failing extends ModelServer {
  async *predictStream(): AsyncIterable<InferenceResult> {
    yield { outputs: [{ name: 'text_output', datatype: 'BYTES', shape: [1], data: ['one'] }] };
    throw new Error('the model broke');
  }
}

beforeAll(() => Logger.overrideLogger(false));
beforeEach(() => {
  Counter.produced = 0;
  Counter.closed = 0;
  Counter.gate = null;
});

const wire = (n: number, id?: string): WireInferenceRequest => ({
  ...(id === undefined ? {} : { id }),
  parameters: { n },
  inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], data: ['hi'] }],
});

async function plane(limits?: Partial<DataPlane['limits']>, listen: { payloads?: boolean } = {}) {
  const repository = new ModelRepository(
    [
      { name: 'counter', model: Counter },
      { name: 'plain', model: Plain },
      { name: 'failing', model: Failing },
    ],
    'blocking',
    inProcessExecutor,
  );
  await repository.loadAll();
  const events = new InferenceEventStream();
  const seen: InferenceEvent[] = [];
  events.listen((e) => seen.push(e), listen);
  const dp = new DataPlane(repository, events, { maxInFlight: 0, requestTimeoutMs: 0, maxRequestBytesInFlight: 0, ...DEFAULT_REQUEST_LIMITS, ...limits });
  return { dp, seen };
}

/** A client that goes away when the test says so. */
class Client implements CancellationSource {
  private listeners: (() => void)[] = [];
  onCancel(listener: () => void): void {
    this.listeners.push(listener);
  }
  leave(): void {
    for (const l of this.listeners) l();
  }
}

const texts = (responses: { outputs: { data: unknown }[] }[]) => responses.map((r) => (r.outputs[0].data as { text(i: number): string }).text(0));
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('DataPlane streams (predictStream)', () => {
  it('yields each part postprocessed, counts the stream in flight until it ends, and gives one event with the assembled output', async () => {
    const { dp, seen } = await plane();
    const stream = await dp.begin('infer', 'counter', undefined, { protocol: 'rest' }).stream(wire(3, 's-1'));
    expect(dp.requestsInFlight).toBe(1);
    const parts = [];
    for await (const part of stream) parts.push(part);
    expect(texts(parts)).toEqual(['W0 ', 'W1 ', 'W2 ']);
    expect(parts[0]).toMatchObject({ id: 's-1', model_name: 'counter' });
    expect(dp.requestsInFlight).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0].stream).toMatchObject({ chunks: 3, ending: 'completed' });
    expect(seen[0].stream!.gapsMs).toHaveLength(2);
    expect(seen[0].stream!.firstChunkMs).toBeGreaterThanOrEqual(0);
    expect((seen[0].response as { outputs: { data: { text(i: number): string } }[] }).outputs[0].data.text(0)).toBe('W0 W1 W2 ');
  });

  it('keeps no parts for the event when no listener reads payloads (metrics, request logs): the facts only', async () => {
    const { dp, seen } = await plane(undefined, { payloads: false });
    const stream = await dp.begin('infer', 'counter', undefined, { protocol: 'rest' }).stream(wire(3));
    const parts = [];
    for await (const part of stream) parts.push(part);
    expect(texts(parts)).toEqual(['W0 ', 'W1 ', 'W2 ']);
    expect(seen).toHaveLength(1);
    expect(seen[0].stream).toMatchObject({ chunks: 3, ending: 'completed' });
    expect(seen[0].response).toBeUndefined();
  });

  it('pauses the model while the reader is slow: at most streamBufferChunks parts wait', async () => {
    const { dp } = await plane({ streamBufferChunks: 2 });
    const stream = await dp.begin('infer', 'counter', undefined, { protocol: 'rest' }).stream(wire(50));
    await stream.next();
    for (let i = 0; i < 5; i++) await tick();
    expect(Counter.produced).toBe(3); // the one read, and two waiting
    await stream.next();
    for (let i = 0; i < 5; i++) await tick();
    expect(Counter.produced).toBe(4);
    await stream.return();
  });

  it('ends the model iteration (its finally runs) when the client goes away, and the event says cancelled', async () => {
    const { dp, seen } = await plane();
    let open!: () => void;
    Counter.gate = new Promise<void>((r) => (open = r));
    const client = new Client();
    const stream = await dp.begin('infer', 'counter', undefined, { protocol: 'rest', cancellation: client }).stream(wire(1000));
    const pending = stream.next();
    client.leave();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    open();
    for (let i = 0; i < 3; i++) await tick();
    expect(Counter.closed).toBe(1);
    expect(Counter.produced).toBeLessThanOrEqual(1);
    expect(dp.requestsInFlight).toBe(0);
    expect(seen[0].stream?.ending).toBe('cancelled');
    expect(seen[0].errorCode).toBe(ErrorCode.Cancelled);
  });

  it('fails the reader with DEADLINE_EXCEEDED when the deadline passes mid-stream', async () => {
    const { dp, seen } = await plane();
    Counter.gate = new Promise<void>(() => undefined);
    const stream = await dp.begin('infer', 'counter', undefined, { protocol: 'rest', deadline: Date.now() + 30 }).stream(wire(5));
    await expect(stream.next()).rejects.toMatchObject({ code: ErrorCode.DeadlineExceeded });
    expect(seen[0].stream?.ending).toBe('deadline');
    expect(dp.requestsInFlight).toBe(0);
  });

  it('a model failure mid-stream: the parts before it, then the coded error; the event says error', async () => {
    const { dp, seen } = await plane();
    const stream = await dp.begin('infer', 'failing', undefined, { protocol: 'grpc' }).stream(wire(1));
    expect((await stream.next()).done).toBe(false);
    await expect(stream.next()).rejects.toMatchObject({ code: ErrorCode.ModelError });
    expect(seen[0]).toMatchObject({ status: 'error', stream: { chunks: 1, ending: 'error' } });
  });

  it('a model without predictStream is a 404 naming the routes it answers', async () => {
    const { dp } = await plane();
    await expect(dp.begin('infer', 'plain', undefined, { protocol: 'rest' }).stream(wire(1))).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      message: expect.stringMatching(/'plain' does not stream.*\/infer/),
    });
  });

  it('infer on a model that only streams answers the whole result', async () => {
    const { dp } = await plane();
    const response = await dp.infer('counter', undefined, wire(3), { protocol: 'rest' });
    expect((response.outputs[0].data as unknown as { text(i: number): string }).text(0)).toBe('W0 W1 W2 ');
  });

  it('streams count in maxInFlight', async () => {
    const { dp } = await plane({ maxInFlight: 1 });
    const stream = await dp.begin('infer', 'counter', undefined, { protocol: 'rest' }).stream(wire(3));
    await expect(dp.infer('counter', undefined, wire(1), { protocol: 'rest' })).rejects.toMatchObject({ code: ErrorCode.Overloaded });
    await stream.return();
    await expect(dp.infer('counter', undefined, wire(1), { protocol: 'rest' })).resolves.toBeDefined();
  });
});
