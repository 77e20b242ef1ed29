import { join } from 'node:path';
import { status, type StatusObject } from '@grpc/grpc-js';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import { EchoFixture } from './fixtures/test-models';
import { createGrpcApp, type GrpcTestApp, type Message } from './helpers/grpc-client';
import { TextGenModel } from '../samples/textgen/textgen.model';

const TEXTGEN = { name: 'textgen', model: TextGenModel, modelPath: join(__dirname, '..', 'samples', 'textgen') };

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
    t = await createGrpcApp({ models: [TEXTGEN, { name: 'echo', model: EchoFixture }] });
  });
  afterAll(() => t.close());

  it('one response per part, flagged not final, then a final one; the parts join into ModelInfer\'s whole answer', async () => {
    const whole = await t.client.call('ModelInfer', prompt('unary'));
    const stream = t.client.stream();
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
    stream.write(prompt('s-1'));
    stream.end();
    expect((await ended).code).toBe(status.OK);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    expect(answers.every((a) => a.error_message === '' && a.infer_response.id === 's-1')).toBe(true);
    const last = answers[answers.length - 1];
    expect(isFinal(last)).toBe(true);
    expect(last.infer_response.outputs).toEqual([]);
    const parts = answers.slice(0, -1);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts.every((a) => !isFinal(a) && a.infer_response.parameters.triton_final_response.bool_param === false)).toBe(true);
    expect(parts.map(textOf).join('')).toBe(whole.outputs[0].contents.bytes_contents[0].toString('utf8'));
  });

  it('streams of several requests interleave on one call; each ends with its own final response', async () => {
    const stream = t.client.stream();
    const answers: Message[] = [];
    stream.on('data', (m: Message) => answers.push(m));
    const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
    stream.write(prompt('a', { delay_ms: 5 }));
    stream.write(prompt('b', { delay_ms: 5 }));
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
