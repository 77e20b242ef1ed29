import { join } from 'node:path';
import { status, type StatusObject } from '@grpc/grpc-js';
import { ModelServer, type InferenceResult } from 'nest-model-server';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import { EchoFixture } from './fixtures/test-models';
import { createGrpcApp, type GrpcTestApp, type Message } from './helpers/grpc-client';
import { TextGenModel } from '../samples/textgen/textgen.model';

const TEXTGEN = { name: 'textgen', model: TextGenModel, modelPath: join(__dirname, '..', 'samples', 'textgen') };

/** Streams two parts, then fails. */
class FailingStreamFixture extends ModelServer {
  async *predictStream(): AsyncIterable<InferenceResult> {
    for (const text of ['a', 'b']) yield { outputs: [{ name: 'text_output', datatype: 'BYTES', shape: [1], data: [text] }] };
    throw new Error('the tokenizer broke');
  }
}

function prompt(id: string, parameters: Record<string, unknown> = {}): Message {
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries({ max_tokens: 6, seed: 9, ...parameters })) params[k] = typeof v === 'string' ? { string_param: v } : { int64_param: v };
  return {
    model_name: 'textgen',
    id,
    parameters: params,
    inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('Alice was')] } }],
  };
}

const textOf = (m: Message): string => (m.infer_response.outputs[0]?.contents.bytes_contents ?? []).map((b: Buffer) => b.toString('utf8')).join('');
const isFinal = (m: Message): boolean => m.infer_response.parameters?.triton_final_response?.bool_param === true;

/** Triton's decoupled mode: a streaming model answers one ModelStreamInfer request with many responses. */
describe('gRPC ModelStreamInfer with a streaming model (decoupled)', () => {
  let t: GrpcTestApp;
  beforeAll(async () => {
    t = await createGrpcApp({ models: [TEXTGEN, { name: 'echo', model: EchoFixture }, { name: 'failing', model: FailingStreamFixture }] });
  });
  afterAll(() => t.close());

  /** Every response of one request on a call that sends only it, once the call has ended. */
  async function answersTo(request: Message): Promise<Message[]> {
    const stream = t.client.stream();
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
    stream.write(request);
    stream.end();
    expect((await ended).code).toBe(status.OK);
    return answers;
  }

  it.each([
    ['absent', {}],
    ['false', { triton_enable_empty_final_response: { bool_param: false } }],
  ])("triton_enable_empty_final_response %s: one response per part, each flagged not final, and no empty response; the parts join into ModelInfer's whole answer", async (_setting, extra) => {
    const whole = await t.client.call('ModelInfer', prompt('unary'));
    const request = prompt('s-1');
    request.parameters = { ...request.parameters, ...extra };
    const answers = await answersTo(request);
    expect(answers.length).toBeGreaterThanOrEqual(2);
    expect(answers.every((a) => a.error_message === '' && a.infer_response.id === 's-1' && a.infer_response.outputs.length === 1)).toBe(true);
    expect(answers.every((a) => a.infer_response.parameters.triton_final_response.bool_param === false)).toBe(true);
    // The model's own parameters stay beside the flag (textgen's last part says why it ended).
    expect(answers[answers.length - 1].infer_response.parameters.finish_reason?.string_param).toBe('length');
    expect(answers.map(textOf).join('')).toBe(whole.outputs[0].contents.bytes_contents[0].toString('utf8'));
  });

  it('sends each part as the model makes it, not once the next one is known', async () => {
    // textgen waits delay_ms before each word. Holding a part back until the next is made would send the first
    // after two delays and the last two together.
    const delay = 500;
    const stream = t.client.stream();
    const arrivals: number[] = [];
    const start = Date.now();
    stream.on('data', () => arrivals.push(Date.now() - start));
    const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
    stream.write(prompt('timed', { max_tokens: 3, delay_ms: delay }));
    stream.end();
    expect((await ended).code).toBe(status.OK);
    expect(arrivals).toHaveLength(3);
    expect(arrivals[0]).toBeLessThan(1.8 * delay);
    expect(arrivals[2] - arrivals[1]).toBeGreaterThan(delay / 2);
  });

  it('triton_enable_empty_final_response true: one response per part, flagged not final, then an empty final one', async () => {
    const whole = await t.client.call('ModelInfer', prompt('unary'));
    const request = prompt('s-2');
    request.parameters = { ...request.parameters, triton_enable_empty_final_response: { bool_param: true } };
    const answers = await answersTo(request);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    expect(answers.every((a) => a.error_message === '' && a.infer_response.id === 's-2')).toBe(true);
    const last = answers[answers.length - 1];
    expect(isFinal(last)).toBe(true);
    expect(last.infer_response.outputs).toEqual([]);
    const parts = answers.slice(0, -1);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts.every((a) => !isFinal(a) && a.infer_response.parameters.triton_final_response.bool_param === false)).toBe(true);
    expect(parts.map(textOf).join('')).toBe(whole.outputs[0].contents.bytes_contents[0].toString('utf8'));
  });

  it('a failure after the first part: the last response is the error, flagged final unless the empty final was asked for', async () => {
    const failing = (id: string, parameters: Record<string, unknown> = {}): Message => ({
      model_name: 'failing',
      id,
      parameters,
      inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('go')] } }],
    });
    const plain = await answersTo(failing('f-1'));
    expect(plain.map((a) => [a.error_message === '' ? textOf(a) : 'error', isFinal(a)])).toEqual([
      ['a', false],
      ['b', false],
      ['error', true],
    ]);
    expect(plain[2].error_message).toMatch(/model 'failing' failed/);
    const asked = await answersTo(failing('f-2', { triton_enable_empty_final_response: { bool_param: true } }));
    expect(asked.map((a) => [a.error_message === '' ? textOf(a) : 'error', isFinal(a)])).toEqual([
      ['a', false],
      ['b', false],
      ['error', false],
      ['', true],
    ]);
    expect(asked[3].infer_response.outputs).toEqual([]);
  });

  it('triton_enable_empty_final_response that is not a boolean: one error_message naming it, before the model starts', async () => {
    const request = prompt('bad-flag');
    request.parameters = { ...request.parameters, triton_enable_empty_final_response: { int64_param: 1 } };
    const answers = await answersTo(request);
    expect(answers).toHaveLength(1);
    expect(answers[0].error_message).toMatch(/triton_enable_empty_final_response.*boolean/);
  });

  it('streams of several requests interleave on one call; each asking for it ends with its own final response', async () => {
    const stream = t.client.stream();
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
    const asking = (id: string): Message => {
      const request = prompt(id, { delay_ms: 5 });
      request.parameters = { ...request.parameters, triton_enable_empty_final_response: { bool_param: true } };
      return request;
    };
    stream.write(asking('a'));
    stream.write(asking('b'));
    stream.write({ model_name: 'echo', id: 'plain', inputs: [{ name: 'x', datatype: 'INT32', shape: [1], contents: { int_contents: [4] } }] });
    stream.end();
    expect((await ended).code).toBe(status.OK);
    for (const id of ['a', 'b']) {
      const mine = answers.filter((m) => m.infer_response.id === id);
      expect(mine.filter(isFinal)).toHaveLength(1);
      expect(isFinal(mine[mine.length - 1])).toBe(true);
    }
    const plain = answers.filter((m) => m.infer_response.id === 'plain');
    expect(plain).toHaveLength(1);
    expect(plain[0].infer_response.outputs[0].contents.int_contents).toEqual([4]);
  });

  it('a refusal before the model starts is one error_message; a cancelled call stops the model', async () => {
    const events: InferenceEvent[] = [];
    const sub = t.app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
    const stream = t.client.stream();
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    stream.on('error', () => undefined);
    stream.write(prompt('bad', { max_tokens: 0 }));
    stream.write(prompt('long', { max_tokens: 500, delay_ms: 20 }));
    while (answers.filter((m) => m.infer_response.id === 'long').length < 2) await new Promise((r) => setTimeout(r, 10));
    stream.cancel();
    const bad = answers.find((m) => m.infer_response.id === 'bad')!;
    expect(bad.error_message).toMatch(/max_tokens/);
    const seen = answers.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(answers.length).toBe(seen);
    sub.unsubscribe();
    const long = events.find((e) => e.id === 'long')!;
    expect(long.stream).toMatchObject({ ending: 'cancelled' });
    expect(long.stream!.chunks).toBeLessThanOrEqual(seen + 1);
  });
});
