import * as http2 from 'node:http2';
import * as protobuf from 'protobufjs';
import { status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { DataPlane, ModelServer, type InferenceRequest, type InferenceResult } from 'nest-model-server';
import { GRPC_PREDICT_V2_PROTO } from 'nest-model-server/grpc';
import { EchoFixture } from './fixtures/test-models';
import { bytesOf, createGrpcApp, decodeInferResponse, InferenceClient, lengthPrefixed, LogRecorder, wire, type GrpcTestApp, type Message } from './helpers/grpc-client';

/** Answers how many elements its first input holds, and what container they came in. */
class CountFixture extends ModelServer {
  static calls = 0;
  predict(request: InferenceRequest): InferenceResult {
    CountFixture.calls++;
    const data = request.inputs[0].data as { length: number };
    return { outputs: [{ name: 'n', datatype: 'INT64', shape: [1], data: [BigInt(data.length)] }] };
  }
}

/** Waits in predict until the test opens its gate (all requests at once). */
class GateFixture extends ModelServer {
  static open: () => void = () => undefined;
  static waiting = 0;
  private static gate = Promise.resolve();
  static close(): void {
    GateFixture.gate = new Promise<void>((resolve) => (GateFixture.open = resolve));
  }
  async predict(): Promise<InferenceResult> {
    GateFixture.waiting++;
    await GateFixture.gate;
    GateFixture.waiting--;
    return { outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [1] }] };
  }
}

/** Never answers. */
class HangFixture extends ModelServer {
  predict(): Promise<InferenceResult> {
    return new Promise<InferenceResult>(() => undefined);
  }
}

/** Fails with an error of its own. */
class FaultyFixture extends ModelServer {
  predict(): InferenceResult {
    throw new RangeError('weights index 99 out of range in /srv/models/faulty/model.js');
  }
}

/** Answers `parameters.n` kilobytes of FP32, counting its calls. */
class BigAnswerFixture extends ModelServer {
  static calls = 0;
  predict(request: InferenceRequest): InferenceResult {
    BigAnswerFixture.calls++;
    const n = Number(request.parameters?.kb ?? 1) * 256;
    return { outputs: [{ name: 'y', datatype: 'FP32', shape: [n], data: new Float32Array(n) }] };
  }
}

const MODELS = [
  { name: 'echo', model: EchoFixture },
  { name: 'count', model: CountFixture },
  { name: 'gate', model: GateFixture },
  { name: 'hang', model: HangFixture },
  { name: 'faulty', model: FaultyFixture },
  { name: 'big', model: BigAnswerFixture },
];

const streamRequest = new protobuf.Root().loadSync(GRPC_PREDICT_V2_PROTO, { keepCase: true }).lookupType('inference.ModelInferRequest');

const fp32 = (n: number): Message => ({ name: 'x', datatype: 'FP32', shape: [n], contents: { fp32_contents: new Array<number>(n).fill(1) } });

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 2));
}

/** Every rejection nobody handled while the suite ran (the process would have died on one). */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('gRPC hostile input: counts, shapes and sizes', () => {
  let t: GrpcTestApp;
  beforeAll(async () => {
    t = await createGrpcApp({ models: MODELS });
  });
  afterAll(() => t.close());

  it.each<[string, () => Buffer, RegExp]>([
    ['100,000 inputs in 1 MiB', () => wire.request('echo', Buffer.concat(new Array<Buffer>(100_000).fill(wire.input('x', 'FP32', [1], wire.field(6, Buffer.alloc(4)))))), /^100000 inputs; the limit is 1024 \(maxInputs\)$/],
    ['2,000 requested outputs', () => wire.request('echo', wire.input('x', 'FP32', [0]), Buffer.concat(Array.from({ length: 2000 }, (_, i) => wire.field(6, wire.field(1, `o${i}`))))), /^2000 requested outputs; the limit is 1024 \(maxOutputs\)$/],
    [
      '300 request parameters',
      () => wire.request('echo', wire.input('x', 'FP32', [0]), ...Array.from({ length: 300 }, (_, i) => wire.field(4, Buffer.concat([wire.field(1, `p${i}`), wire.field(2, wire.field(3, 'v'))])))),
      /parameters of the request hold more than 256 entries; the limit is 256 \(maxParameters\)/,
    ],
  ])('%s: INVALID_ARGUMENT naming the setting', async (_what, build, details) => {
    const err = await t.client.failBytes('ModelInfer', build());
    expect([err.code, err.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(details)]);
  });

  it.each<[string, Message]>([
    ['FP32 contents', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2 ** 32], contents: { fp32_contents: [1, 2] } }] }],
    ['BYTES contents', { inputs: [{ name: 's', datatype: 'BYTES', shape: [2 ** 32], contents: { bytes_contents: [Buffer.from('a')] } }] }],
    ['INT64 contents', { inputs: [{ name: 'x', datatype: 'INT64', shape: [2 ** 16, 2 ** 16], contents: { int64_contents: ['1'] } }] }],
    ['FP32 raw', { inputs: [{ name: 'x', datatype: 'FP32', shape: [2 ** 32] }], raw_input_contents: [Buffer.alloc(8)] }],
    ['BYTES raw', { inputs: [{ name: 's', datatype: 'BYTES', shape: [2 ** 32] }], raw_input_contents: [lengthPrefixed(['abc'])] }],
    ['no data', { inputs: [{ name: 'x', datatype: 'BYTES', shape: [2 ** 32] }] }],
  ])('a shape of 2^32 elements with %s is INVALID_ARGUMENT, never INTERNAL', async (_what, request) => {
    const err = await t.client.fail('ModelInfer', { model_name: 'echo', ...request });
    expect(err.code).toBe(status.INVALID_ARGUMENT);
  });

  it('a million one-byte bytes_contents are decoded (the model sees them all) and answered', async () => {
    const n = 1_000_000;
    const answer = decodeInferResponse(await t.client.callBytes('ModelInfer', wire.request('count', wire.input('s', 'BYTES', [n], wire.oneByteStrings(n)))));
    expect(answer.outputs[0].contents.int64_contents).toEqual([String(n)]);
    const echoed = decodeInferResponse(await t.client.callBytes('ModelInfer', wire.request('echo', wire.input('s', 'BYTES', [3], wire.oneByteStrings(3)))));
    expect(echoed.outputs[0].contents.bytes_contents.map((b: Uint8Array) => Buffer.from(b).toString())).toEqual(['a', 'b', 'c']);
  });

  it('client text is clipped in status details', async () => {
    const name = 'n'.repeat(100_000);
    const err = await t.client.fail('ModelInfer', { model_name: 'echo', inputs: [{ name, datatype: 'FP32', shape: [3] }] });
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details.length).toBeLessThan(1000);
    expect(err.details).toMatch(/\(100000 characters\)/);
  });
});

describe('gRPC hostile input: the tensor budget', () => {
  it('contents larger than maxTensorBytes decoded are RESOURCE_EXHAUSTED naming the setting', async () => {
    const t = await createGrpcApp({ models: MODELS, maxTensorBytes: 64 * 1024 });
    try {
      const err = await t.client.failBytes('ModelInfer', wire.request('count', wire.input('x', 'INT64', [10_000], wire.packedInt64(10_000))));
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(err.details).toMatch(/input 'x' would take 80000 bytes decoded, over what is left of the request's 65536-byte budget for tensors \(maxTensorBytes\)/);
      expect((await t.client.call('ModelInfer', { model_name: 'count', inputs: [fp32(1000)] })).outputs[0].contents.int64_contents).toEqual(['1000']);
    } finally {
      await t.close();
    }
  });
});

describe('gRPC hostile input: the server-wide byte budget', () => {
  let t: GrpcTestApp;
  const KB = 1024;
  // Each request is about 400 KB; the budget holds two.
  const request = () => wire.request('gate', wire.input('x', 'FP32', [100 * KB], wire.field(6, Buffer.alloc(400 * KB))));
  beforeAll(async () => {
    t = await createGrpcApp({ models: MODELS, maxRequestBytesInFlight: 900 * KB });
  });
  afterAll(() => t.close());
  const budget = () => t.app.get(DataPlane).byteBudget;

  it('a request beyond it is UNAVAILABLE with a retry-after trailer naming the setting; room again once answered', async () => {
    GateFixture.close();
    const first = [t.client.callBytes('ModelInfer', request()), t.client.callBytes('ModelInfer', request())];
    await until(() => GateFixture.waiting === 2);
    const refused = await t.client.failBytes('ModelInfer', request());
    expect(refused.code).toBe(status.UNAVAILABLE);
    expect(refused.details).toMatch(/maxRequestBytesInFlight/);
    expect(refused.metadata.get('retry-after')).toEqual(['1']);
    // On a stream the refusal is that request's error_message; the stream goes on.
    const stream = t.client.stream();
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
    stream.write({ model_name: 'gate', id: 's1', inputs: [fp32(100 * KB)] });
    await until(() => answers.length === 1);
    expect(answers[0].error_message).toMatch(/maxRequestBytesInFlight/);
    GateFixture.open();
    await Promise.all(first);
    expect(budget().inUse).toBe(0);
    stream.write({ model_name: 'gate', id: 's2', inputs: [fp32(100 * KB)] });
    stream.end();
    expect((await ended).code).toBe(status.OK);
    expect(answers[1].error_message).toBe('');
    expect((await t.client.callBytes('ModelInfer', request())).length).toBeGreaterThan(0);
    expect(budget().inUse).toBe(0);
  });

  it('is given back on every path: malformed, refused by a limit, failed, cancelled, past its deadline', async () => {
    GateFixture.open();
    await t.client.failBytes('ModelInfer', Buffer.from([0x0a, 0x05, 0x61]));
    await t.client.failBytes('ModelInfer', wire.request('echo', Buffer.concat(new Array<Buffer>(2000).fill(wire.input('x', 'FP32', [0])))));
    await t.client.fail('ModelInfer', { model_name: 'faulty', inputs: [fp32(10)] });
    await t.client.fail('ModelInfer', { model_name: 'hang', inputs: [fp32(10)] }, { deadline: Date.now() + 100 });
    GateFixture.close();
    const call = t.client.raw.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (b: Buffer) => b, (b: Buffer) => b, request(), () => undefined);
    await until(() => GateFixture.waiting === 1);
    call.cancel();
    GateFixture.open();
    await until(() => GateFixture.waiting === 0);
    await until(() => budget().inUse === 0);
  });
});

describe('gRPC async error paths', () => {
  let t: GrpcTestApp;
  let logs: LogRecorder;
  beforeAll(async () => {
    logs = new LogRecorder();
    t = await createGrpcApp({ models: MODELS }, { maxStreamInFlight: 4 }, {}, logs);
  });
  afterAll(() => t.close());
  beforeEach(() => logs.lines.splice(0));

  it('a deadline that passes is DEADLINE_EXCEEDED, logged as one warning line without a stack', async () => {
    const err = await t.client.fail('ModelInfer', { model_name: 'hang', inputs: [fp32(1)] }, { deadline: Date.now() + 150 });
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    await until(() => logs.of('GrpcInference').length > 0);
    const lines = logs.of('GrpcInference');
    expect(lines).toEqual([{ level: 'warn', message: expect.stringMatching(/^ModelInfer: the request's deadline passed during predict$/), rest: ['GrpcInference'] }]);
  });

  it("a model's failure is INTERNAL without a stack in the details, and one error line with its own stack in the log", async () => {
    const err = await t.client.fail('ModelInfer', { model_name: 'faulty', id: 'f1', inputs: [fp32(1)] });
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).not.toMatch(/\n\s+at /);
    const lines = logs.of('GrpcInference');
    expect(lines).toHaveLength(1);
    expect(lines[0].level).toBe('error');
    expect(lines[0].message).toMatch(/^ModelInfer: model 'faulty' failed in predict/);
    expect(lines[0].rest[0]).toMatch(/^RangeError: weights index 99 out of range[^\n]*\n\s+at /);
  });

  it('a client that cancels while its model runs leaves nothing behind', async () => {
    GateFixture.close();
    const call = t.client.raw.makeUnaryRequest(
      '/inference.GRPCInferenceService/ModelInfer',
      (b: Buffer) => b,
      (b: Buffer) => b,
      wire.request('gate', wire.input('x', 'FP32', [1], wire.field(6, Buffer.alloc(4)))),
      () => undefined,
    );
    await until(() => GateFixture.waiting === 1);
    call.cancel();
    await new Promise((r) => setTimeout(r, 20));
    GateFixture.open();
    await until(() => GateFixture.waiting === 0);
    expect(await t.client.call('ServerLive', {})).toEqual({ live: true });
    expect(logs.of('GrpcInference').filter((l) => l.level === 'error')).toEqual([]);
  });

  it('a client that cancels while a large message is still being decoded stops the decoding', async () => {
    const n = 32 * 1024 * 1024;
    const bytes = wire.request('count', wire.input('x', 'INT64', [n], wire.packedInt64(n)));
    const before = CountFixture.calls;
    const call = t.client.raw.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (b: Buffer) => b, (b: Buffer) => b, bytes, () => undefined);
    await until(() => t.app.get(DataPlane).byteBudget.inUse > 0);
    call.cancel();
    await until(() => t.app.get(DataPlane).byteBudget.inUse === 0);
    expect(CountFixture.calls).toBe(before);
  });

  it('a stream whose client cancels, or whose deadline passes, with requests in flight leaves the server serving', async () => {
    GateFixture.close();
    const cancelled = t.client.stream();
    const cancelledError = new Promise<ServiceError>((resolve) => cancelled.on('error', resolve));
    cancelled.write({ model_name: 'gate', id: 'c', inputs: [fp32(1)] });
    const late = t.client.stream({ deadline: Date.now() + 200 });
    const lateError = new Promise<ServiceError>((resolve) => late.on('error', resolve));
    late.write({ model_name: 'gate', id: 'd', inputs: [fp32(1)] });
    await until(() => GateFixture.waiting === 2);
    cancelled.cancel();
    expect((await cancelledError).code).toBe(status.CANCELLED);
    expect((await lateError).code).toBe(status.DEADLINE_EXCEEDED);
    GateFixture.open();
    await until(() => GateFixture.waiting === 0);
    await new Promise((r) => setTimeout(r, 20));
    expect(await t.client.call('ServerLive', {})).toEqual({ live: true });
    expect(logs.of('GrpcInference').filter((l) => l.level === 'error')).toEqual([]);
  });

  it('a stream whose client never reads its answers is not read further (at most maxStreamInFlight answers wait)', async () => {
    // A plain HTTP/2 client that sends gRPC frames and never reads: flow control is all that holds the server.
    const session = http2.connect(`http://127.0.0.1:${t.port}`);
    try {
      BigAnswerFixture.calls = 0;
      const stream = session.request({
        ':method': 'POST',
        ':path': '/inference.GRPCInferenceService/ModelStreamInfer',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => undefined);
      stream.pause();
      const message = streamRequest.encode(streamRequest.fromObject({ model_name: 'big', parameters: { kb: { int64_param: '1024' } }, inputs: [fp32(1)] })).finish();
      const frame = Buffer.alloc(5 + message.length);
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      for (let i = 0; i < 60; i++) stream.write(frame);
      await until(() => BigAnswerFixture.calls >= 4);
      let seen = -1;
      while (seen !== BigAnswerFixture.calls) {
        seen = BigAnswerFixture.calls;
        await new Promise((r) => setTimeout(r, 300));
      }
      // Answers in the flow-control windows, plus at most maxStreamInFlight (4) waiting in the server.
      expect(seen).toBeLessThan(12);
      // Once the client reads, the rest are served.
      stream.resume();
      stream.on('data', () => undefined);
      await until(() => BigAnswerFixture.calls === 60);
      stream.close();
    } finally {
      session.close();
    }
  });

  it('bad requests on a stream fail alone, as error_message, clipped', async () => {
    const stream = t.client.stream();
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
    stream.write({ model_name: 'm'.repeat(50_000), inputs: [fp32(1)] });
    stream.write({ model_name: 'echo', inputs: Array.from({ length: 1100 }, () => fp32(0)) });
    stream.write({ model_name: 'faulty', id: 'f', inputs: [fp32(1)] });
    stream.write({ model_name: 'echo', id: 'ok', inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }], raw_input_contents: [bytesOf(new Float32Array([1, 2]))] });
    stream.end();
    expect((await ended).code).toBe(status.OK);
    expect(answers).toHaveLength(4);
    const byId = (id: string) => answers.find((a) => a.infer_response.id === id)!;
    expect(answers.some((a) => /^model 'mmmm/.test(a.error_message) && a.error_message.length < 2100 && a.infer_response.model_name.length < 1000)).toBe(true);
    expect(answers.some((a) => /1100 inputs; the limit is 1024 \(maxInputs\)/.test(a.error_message))).toBe(true);
    expect(byId('f').error_message).toMatch(/model 'faulty' failed in predict/);
    expect(byId('f').error_message).not.toMatch(/\n\s+at /);
    expect(byId('ok').error_message).toBe('');
  });
});

describe('gRPC with debug on', () => {
  it("puts a model failure's stack in the status details", async () => {
    const t = await createGrpcApp({ models: MODELS, debug: true });
    try {
      const err = await t.client.fail('ModelInfer', { model_name: 'faulty', inputs: [fp32(1)] });
      expect(err.code).toBe(status.INTERNAL);
      expect(err.details).toMatch(/RangeError: weights index 99 out of range[^\n]*\n\s+at /);
    } finally {
      await t.close();
    }
  });
});

describe('gRPC: the event loop keeps turning under 64 MiB-class messages', () => {
  let t: GrpcTestApp;
  let probe: InferenceClient;
  beforeAll(async () => {
    t = await createGrpcApp({ models: MODELS });
    probe = new InferenceClient(t.port);
  });
  afterAll(async () => {
    probe.close();
    await t.close();
  });

  /** Runs `work` while a second client calls ServerLive back to back; the longest a probe waited, in ms. */
  async function longestProbe(work: () => Promise<unknown>): Promise<number> {
    let running = true;
    let longest = 0;
    const probing = (async () => {
      while (running) {
        const start = performance.now();
        await probe.call('ServerLive', {});
        longest = Math.max(longest, performance.now() - start);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      await work();
    } finally {
      running = false;
      await probing;
    }
    return longest;
  }

  it('64 MiB of packed INT64 (refused by the tensor budget after counting), 16 Mi INT64 decoded and echoed', async () => {
    const mib = 1024 * 1024;
    const refused = wire.request('count', wire.input('x', 'INT64', [64 * mib - 64], wire.packedInt64(64 * mib - 64)));
    const echoed = wire.request('echo', wire.input('x', 'INT64', [16 * mib], wire.packedInt64(16 * mib, 3)));
    const blocks: Record<string, number> = {};
    blocks.refused = await longestProbe(async () => {
      const err = await t.client.failBytes('ModelInfer', refused);
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    });
    blocks.echoed = await longestProbe(async () => {
      const bytes = await t.client.callBytes('ModelInfer', echoed);
      expect(bytes.length).toBeGreaterThan(16 * mib);
    });
    // Without the slicing, each of these blocked the loop for seconds on this machine.
    expect(blocks).toEqual({ refused: expect.any(Number), echoed: expect.any(Number) });
    expect(Math.max(blocks.refused, blocks.echoed)).toBeLessThan(1000);
  });
});
