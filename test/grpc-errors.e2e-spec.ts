import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { ModelServer, type InferenceRequest, type InferenceResult } from 'nest-model-server';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import { BrokenFixture, BuggyFixture, EchoFixture, GatedFixture, SumFixture } from './fixtures/test-models';
import { bytesOf, createGrpcApp, InferenceClient, lengthPrefixed, type GrpcTestApp, type Message } from './helpers/grpc-client';

/** Returns a FP32 output of as many elements as `parameters.n` asks. */
class BigOutputFixture extends ModelServer {
  predict(request: InferenceRequest): InferenceResult {
    const n = Number(request.parameters?.n ?? 1);
    return { outputs: [{ name: 'y', datatype: 'FP32', shape: [n], data: new Float32Array(n) }] };
  }
}

/** Waits, in predict, until the test lets it go. */
class HangFixture extends ModelServer {
  static started: () => void = () => undefined;
  predict(): Promise<InferenceResult> {
    HangFixture.started();
    return new Promise<InferenceResult>(() => undefined);
  }
}

const fp32 = (values: number[], shape = [values.length]): Message => ({ name: 'x', datatype: 'FP32', shape, contents: { fp32_contents: values } });

describe('gRPC error mapping', () => {
  let t: GrpcTestApp;

  beforeAll(async () => {
    t = await createGrpcApp({
      loadMode: 'background',
      models: [
        { name: 'echo', model: EchoFixture, versions: [{ version: '1' }] },
        { name: 'sum', model: SumFixture },
        { name: 'broken', model: BrokenFixture },
        { name: 'buggy', model: BuggyFixture },
        { name: 'gated', model: GatedFixture },
        { name: 'hang', model: HangFixture },
      ],
    });
    // Background load: wait until the models that can load have.
    for (const name of ['echo', 'sum', 'buggy', 'hang']) {
      while (!(await t.client.call('ModelReady', { name })).ready) await new Promise((r) => setImmediate(r));
    }
  });
  afterAll(async () => {
    GatedFixture.release();
    await t.close();
  });

  const infer = (request: Message, settings = {}) => t.client.fail('ModelInfer', { model_name: 'echo', ...request }, settings);

  describe('client mistakes are INVALID_ARGUMENT with a message that says what to fix', () => {
    it.each<[string, Message, RegExp]>([
      ['element count vs shape', { inputs: [fp32([1, 2, 3], [2, 2])] }, /input 'x': shape \[2,2\] needs 4 elements, got 3/],
      [
        'raw size vs shape',
        { inputs: [{ name: 'x', datatype: 'FP32', shape: [4] }], raw_input_contents: [Buffer.alloc(12)] },
        /input 'x': raw data has 12 bytes, but shape \[4\] of FP32 needs 16/,
      ],
      [
        'contents field not matching the datatype',
        { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { int_contents: [1] } }] },
        /input 'x': FP32 values go in contents.fp32_contents, but the request sent contents.int_contents/,
      ],
      [
        'values in two contents fields',
        { inputs: [{ name: 'x', datatype: 'INT32', shape: [2], contents: { int_contents: [1], fp32_contents: [1] } }] },
        /both int_contents and fp32_contents/,
      ],
      [
        'both raw and contents',
        { inputs: [fp32([1]), { name: 'y', datatype: 'FP32', shape: [1] }], raw_input_contents: [Buffer.alloc(4), Buffer.alloc(4)] },
        /input 'x': has both contents and raw_input_contents/,
      ],
      ['no data', { inputs: [{ name: 'x', datatype: 'FP32', shape: [3] }] }, /input 'x': has no data; send its values in contents.fp32_contents/],
      [
        'raw entries not matching the inputs',
        { inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }, { name: 'y', datatype: 'FP32', shape: [1] }], raw_input_contents: [Buffer.alloc(4)] },
        /raw_input_contents has 1 entries but the request has 2 inputs/,
      ],
      ['FP16 as typed contents', { inputs: [{ name: 'h', datatype: 'FP16', shape: [1], contents: { fp32_contents: [1] } }] }, /FP16 data travels only in raw_input_contents/],
      ['a value out of range', { inputs: [{ name: 'u', datatype: 'UINT8', shape: [1], contents: { uint_contents: [300] } }] }, /value 300 at index 0 is out of range for UINT8/],
      ['an unknown datatype', { inputs: [{ name: 'x', datatype: 'FP8', shape: [1], contents: { fp32_contents: [1] } }] }, /unknown datatype 'FP8'/],
      ['a negative dimension', { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1], contents: { fp32_contents: [1] } }] }, /dimensions must be non-negative/],
      ['no inputs', { inputs: [] }, /the request has no inputs/],
      ['an input without a name', { inputs: [{ ...fp32([1]), name: '' }] }, /an input has no name/],
      ['an unknown requested output', { model_name: 'sum', inputs: [fp32([1])], outputs: [{ name: 'nope' }] }, /has no output 'nope'/],
      ['no model name', { model_name: '', inputs: [fp32([1])] }, /model_name is empty/],
      ['a raw BYTES element cut short', { inputs: [{ name: 's', datatype: 'BYTES', shape: [1] }], raw_input_contents: [lengthPrefixed(['abc']).subarray(0, 5)] }, /declares 3 bytes, but only 1 remain/],
      ['a validate hook refusing the input', { model_name: 'sum', inputs: [fp32([-1])] }, /x must not hold negative values/],
    ])('%s', async (_what, request, message) => {
      const err = await infer(request);
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(message);
    });

    it('bytes that are not a ModelInferRequest are INVALID_ARGUMENT, never INTERNAL', async () => {
      const err = await new Promise<grpc.ServiceError>((resolve) => {
        t.client.raw.makeUnaryRequest(
          '/inference.GRPCInferenceService/ModelInfer',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0x0a, 0x05, 0x61]), // field 1 says 5 bytes, 1 follows
          (e) => resolve(e as grpc.ServiceError),
        );
      });
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/ModelInferRequest message is malformed/);
    });
  });

  it('an unknown model or version is NOT_FOUND', async () => {
    const model = await infer({ model_name: 'nope', inputs: [fp32([1])] });
    expect([model.code, model.details]).toEqual([status.NOT_FOUND, expect.stringMatching(/model 'nope'/)]);
    const version = await infer({ model_version: '7', inputs: [fp32([1])] });
    expect([version.code, version.details]).toEqual([status.NOT_FOUND, expect.stringMatching(/no version '7'/)]);
  });

  it('a model that is loading or failed is UNAVAILABLE (loading: retry-after trailer)', async () => {
    const loading = await infer({ model_name: 'gated', inputs: [fp32([1])] });
    expect(loading.code).toBe(status.UNAVAILABLE);
    expect(loading.details).toMatch(/not ready \(loading\)/);
    expect(loading.metadata.get('retry-after')).toEqual(['5']);
    const failed = await infer({ model_name: 'broken', inputs: [fp32([1])] });
    expect(failed.code).toBe(status.UNAVAILABLE);
    expect(failed.details).toMatch(/weights file is corrupt/);
  });

  it('a bug in model code is INTERNAL naming the model and stage (no stack without debug), and the server keeps serving', async () => {
    const bug = await infer({ model_name: 'buggy', inputs: [fp32([1])] });
    expect(bug.code).toBe(status.INTERNAL);
    expect(bug.details).toMatch(/model 'buggy' failed in predict \(request [^)]+\); details are in the server log/);
    expect(bug.details).not.toMatch(/\n\s+at /);
    const garbage = await t.client.fail('ModelInfer', {
      model_name: 'buggy',
      parameters: { mode: { string_param: 'garbage' } },
      inputs: [fp32([1])],
    });
    expect(garbage.code).toBe(status.INTERNAL);
    expect(garbage.details).toMatch(/output 'y': shape \[3\] needs 3 elements, got 2/);
    expect(await t.client.call('ServerLive', {})).toEqual({ live: true });
  });

  describe('deadlines', () => {
    afterEach(() => jest.useRealTimers());

    it("the client's grpc-timeout is the request's deadline: the data plane ends it with DEADLINE_EXCEEDED", async () => {
      const events: InferenceEvent[] = [];
      const sub = t.app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
      const started = new Promise<void>((resolve) => (HangFixture.started = resolve));
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
      const answer = t.client.fail('ModelInfer', { model_name: 'hang', id: 'slow', inputs: [fp32([1])] }, { deadline: Date.now() + 30_000 });
      await started;
      jest.advanceTimersByTime(30_000);
      const err = await answer;
      sub.unsubscribe();
      expect(err.code).toBe(status.DEADLINE_EXCEEDED);
      expect(events.find((e) => e.id === 'slow')).toMatchObject({ protocol: 'grpc', status: 'error', errorCode: 'DEADLINE_EXCEEDED' });
    });
  });
});

describe('gRPC message size limits', () => {
  let t: GrpcTestApp;

  beforeAll(async () => {
    t = await createGrpcApp(
      { models: [{ name: 'echo', model: EchoFixture }, { name: 'big', model: BigOutputFixture }] },
      { maxReceiveMessageBytes: 64 * 1024, maxSendMessageBytes: 64 * 1024 },
    );
  });
  afterAll(() => t.close());

  it('a request over maxReceiveMessageBytes is RESOURCE_EXHAUSTED naming the setting and the limit', async () => {
    const big = new Float32Array(20_000); // 80,000 bytes of tensor
    const err = await t.client.fail('ModelInfer', { model_name: 'echo', inputs: [{ name: 'x', datatype: 'FP32', shape: [big.length] }], raw_input_contents: [bytesOf(big)] });
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/the request message is \d+ bytes, over the server's limit of 65536 bytes: raise maxReceiveMessageBytes/);
    expect(err.details).toMatch(/GRPC_MAX_MESSAGE_BYTES/);
  });

  it('a response over maxSendMessageBytes is RESOURCE_EXHAUSTED naming the setting; smaller ones pass', async () => {
    const ok = await t.client.call('ModelInfer', { model_name: 'big', parameters: { n: { int64_param: '1000' } }, inputs: [fp32([1])] });
    expect(ok.outputs[0].contents.fp32_contents).toHaveLength(1000);
    const err = await t.client.fail('ModelInfer', { model_name: 'big', parameters: { n: { int64_param: '20000' } }, inputs: [fp32([1])] });
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/the response message is \d+ bytes, over the server's limit of 65536 bytes: raise maxSendMessageBytes/);
  });

  it('the server still answers on the same connection afterwards', async () => {
    const client = new InferenceClient(t.port);
    try {
      expect(await client.call('ServerLive', {})).toEqual({ live: true });
    } finally {
      client.close();
    }
  });
});

describe('gRPC model control', () => {
  it('is off by default: RepositoryModelLoad / Unload answer PERMISSION_DENIED naming the setting', async () => {
    const t = await createGrpcApp({ models: [{ name: 'sum', model: SumFixture }] });
    try {
      for (const rpc of ['RepositoryModelUnload', 'RepositoryModelLoad']) {
        const failed = await t.client.fail(rpc, { model_name: 'sum' });
        expect(failed.code).toBe(status.PERMISSION_DENIED);
        expect(failed.details).toMatch(/modelControl/);
      }
      expect(await t.client.call('ModelReady', { name: 'sum' })).toEqual({ ready: true });
    } finally {
      await t.close();
    }
  });
});
