import { status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { ModelServer, type InferenceRequest, type InferenceResult } from 'nest-model-server';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import { EchoFixture } from './fixtures/test-models';
import { bytesOf, createGrpcApp, type GrpcTestApp, type Message } from './helpers/grpc-client';

/** Each request waits until the test releases its `gate` parameter (no gate: answers at once). */
class GateFixture extends ModelServer {
  static gates = new Map<string, () => void>();
  static running = 0;
  static maxRunning = 0;
  static started: string[] = [];

  async predict(request: InferenceRequest): Promise<InferenceResult> {
    const gate = request.parameters?.gate as string | undefined;
    GateFixture.started.push(request.id);
    GateFixture.running++;
    GateFixture.maxRunning = Math.max(GateFixture.maxRunning, GateFixture.running);
    try {
      if (gate !== undefined) await new Promise<void>((resolve) => GateFixture.gates.set(gate, resolve));
      return { outputs: [{ name: 'y', datatype: 'INT32', shape: [1], data: [1] }] };
    } finally {
      GateFixture.running--;
    }
  }
}

function request(id: string, gate?: string, model = 'gate'): Message {
  return {
    model_name: model,
    id,
    parameters: gate === undefined ? {} : { gate: { string_param: gate } },
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }],
  };
}

/** Resolves once `predicate` holds, checking after each turn of the event loop. */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setImmediate(r));
}

describe('gRPC ModelStreamInfer', () => {
  let t: GrpcTestApp;

  beforeAll(async () => {
    t = await createGrpcApp(
      { models: [{ name: 'gate', model: GateFixture }, { name: 'echo', model: EchoFixture, versions: [{ version: '3' }] }] },
      { maxStreamInFlight: 2 },
    );
  });
  afterAll(() => t.close());
  beforeEach(() => {
    GateFixture.gates.clear();
    GateFixture.started = [];
    GateFixture.maxRunning = 0;
  });

  it('answers in order of completion, each response with its id; failures as error_message; ends OK', async () => {
    const stream = t.client.stream();
    const answers: Message[] = [];
    const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
    stream.on('data', (m: Message) => answers.push(m));
    stream.write(request('slow', 'a'));
    stream.write(request('fast'));
    stream.write(request('lost', undefined, 'nope'));
    await until(() => answers.length === 2 && GateFixture.gates.has('a'));
    expect(answers.map((a) => a.infer_response.id).sort()).toEqual(['fast', 'lost']);
    const failed = answers.find((a) => a.infer_response.id === 'lost')!;
    expect(failed.error_message).toMatch(/model 'nope' is not served here/);
    expect(failed.infer_response.model_name).toBe('nope');
    expect(answers.find((a) => a.infer_response.id === 'fast')!.error_message).toBe('');
    stream.end();
    GateFixture.gates.get('a')!();
    const final = await ended;
    expect(final.code).toBe(status.OK);
    expect(answers.map((a) => a.infer_response.id)[2]).toBe('slow');
    expect(answers[2].infer_response.outputs[0].contents.int_contents).toEqual([1]);
  });

  it('keeps raw in ⇒ raw out and versions; a bad request fails alone, the stream going on', async () => {
    const stream = t.client.stream();
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
    const data = new Float32Array([1.5, -2]);
    stream.write({ model_name: 'echo', model_version: '3', id: 'raw', inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }], raw_input_contents: [bytesOf(data)] });
    stream.write({ model_name: 'echo', id: 'short', inputs: [{ name: 'x', datatype: 'FP32', shape: [4] }], raw_input_contents: [bytesOf(data)] });
    stream.end();
    expect((await ended).code).toBe(status.OK);
    const raw = answers.find((a) => a.infer_response.id === 'raw')!;
    expect(raw.infer_response.model_version).toBe('3');
    expect(Buffer.compare(raw.infer_response.raw_output_contents[0], bytesOf(data))).toBe(0);
    const short = answers.find((a) => a.infer_response.id === 'short')!;
    expect(short.error_message).toMatch(/raw data has 8 bytes, but shape \[4\] of FP32 needs 16/);
  });

  it('gives each request its one monitoring event, refused messages included (none for an unknown model)', async () => {
    const events: InferenceEvent[] = [];
    const sub = t.app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
    try {
      const stream = t.client.stream();
      const answers: Message[] = [];
      stream.on('data', (m: Message) => answers.push(m));
      const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
      const data = new Float32Array([1.5, -2]);
      stream.write({ model_name: 'echo', id: 'ok', inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }], raw_input_contents: [bytesOf(data)] });
      // Refused by the message decoder once it read the model's name, and by the data plane's decoding.
      stream.write({ model_name: 'echo', id: 'empty', inputs: [] });
      stream.write({ model_name: 'echo', id: 'short', inputs: [{ name: 'x', datatype: 'FP32', shape: [4] }], raw_input_contents: [bytesOf(data)] });
      stream.write({ model_name: 'nope', id: 'lost', inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }], raw_input_contents: [bytesOf(data)] });
      stream.end();
      expect((await ended).code).toBe(status.OK);
      expect(answers.find((a) => a.infer_response.id === '')?.error_message).toMatch(/the request has no inputs/);
      const seen = events.map((e) => [e.model, e.version, e.op, e.protocol, e.status, e.errorCode]).sort((x, y) => String(x[4]).localeCompare(String(y[4])));
      expect(seen).toEqual([
        ['echo', '3', 'infer', 'grpc', 'error', 'INVALID_REQUEST'],
        ['echo', '3', 'infer', 'grpc', 'error', 'INVALID_REQUEST'],
        ['echo', '3', 'infer', 'grpc', 'ok', undefined],
      ]);
      expect(events.filter((e) => e.status === 'error').map((e) => e.error).sort()).toEqual([
        expect.stringMatching(/raw data has 8 bytes/),
        expect.stringMatching(/the request has no inputs/),
      ]);
    } finally {
      sub.unsubscribe();
    }
  });

  it('runs at most maxStreamInFlight requests of a stream at once, then reads on', async () => {
    const stream = t.client.stream();
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
    for (const id of ['1', '2', '3', '4']) stream.write(request(id, id));
    stream.end();
    await until(() => GateFixture.gates.size === 2);
    // Give the server every chance to start more than two.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(GateFixture.started).toEqual(['1', '2']);
    GateFixture.gates.get('2')!();
    await until(() => GateFixture.gates.has('3'));
    GateFixture.gates.get('1')!();
    await until(() => GateFixture.gates.has('4'));
    GateFixture.gates.get('3')!();
    GateFixture.gates.get('4')!();
    expect((await ended).code).toBe(status.OK);
    expect(answers.map((a) => a.infer_response.id)).toEqual(['2', '1', '3', '4']);
    expect(GateFixture.maxRunning).toBe(2);
  });

  it('a client that cancels the stream leaves the server serving', async () => {
    const stream = t.client.stream();
    const failed = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    stream.write(request('never', 'c'));
    await until(() => GateFixture.gates.has('c'));
    stream.cancel();
    expect((await failed).code).toBe(status.CANCELLED);
    GateFixture.gates.get('c')!();
    expect(await t.client.call('ServerLive', {})).toEqual({ live: true });
  });
});

describe('gRPC shutdown', () => {
  it('drains: in-flight calls finish, new ones are refused, then the server stops', async () => {
    GateFixture.gates.clear();
    const t = await createGrpcApp({ models: [{ name: 'gate', model: GateFixture }] });
    const inFlight = t.client.call('ModelInfer', request('inflight', 'd'));
    await until(() => GateFixture.gates.has('d'));
    const closing = t.app.close();
    await new Promise((r) => setImmediate(r));
    const refused = await t.client.fail('ModelInfer', request('late'));
    expect(refused.code).toBe(status.UNAVAILABLE);
    GateFixture.gates.get('d')!();
    const answer = await inFlight;
    expect(answer.id).toBe('inflight');
    await closing;
    t.client.close();
  });
});
