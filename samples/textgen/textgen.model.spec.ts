import { createTestServer, type TestServer } from 'nest-model-server/testing';
import { NGramModel, seededRandom } from './ngram';
import { TextGenModel } from './textgen.model';

describe('textgen sample', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({ models: [{ name: 'textgen', model: TextGenModel, modelPath: __dirname }] });
  });
  afterAll(() => server.close());

  const request = (prompt: unknown, parameters: Record<string, unknown> = {}) => ({
    parameters: { seed: 7, ...parameters },
    inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], data: [prompt] }],
  });
  const text = async (prompt: string, parameters?: Record<string, unknown>) => {
    const res = await server.infer('textgen', request(prompt, parameters));
    return { text: String(res.outputs[0].data[0]), parameters: res.parameters };
  };

  it('continues a prompt word by word from its text, the same for the same seed', async () => {
    const a = await text('Alice was', { max_tokens: 12 });
    expect(a.text.trim().split(' ')).toHaveLength(12);
    expect(a.parameters).toEqual({ finish_reason: 'length' });
    expect(await text('Alice was', { max_tokens: 12 })).toEqual(a);
    const others = await Promise.all([1, 2, 3, 4, 5].map(async (seed) => (await text('she', { max_tokens: 12, seed })).text));
    expect(new Set(others).size).toBeGreaterThan(1);
  });

  it('at temperature 0 follows the text itself', async () => {
    expect((await text('The rabbit-hole', { max_tokens: 3, temperature: 0 })).text).toBe(' went straight on');
  });

  it('ends before a stop sequence, which it never sends', async () => {
    const whole = (await text('Alice was', { max_tokens: 20, temperature: 0 })).text;
    const stop = whole.split(' ').slice(3, 5).join(' ');
    const stopped = await text('Alice was', { max_tokens: 20, temperature: 0, stop: [stop] });
    expect(stopped).toEqual({ text: whole.slice(0, whole.indexOf(stop)), parameters: { finish_reason: 'stop' } });
  });

  it.each([
    ['', {}, /text_input/],
    ['Alice', { max_tokens: 0 }, /max_tokens/],
    ['Alice', { temperature: 3 }, /temperature/],
    ['Alice', { stop: [''] }, /stop/],
    ['Alice', { delay_ms: -1 }, /delay_ms/],
  ])('refuses prompt %p with %p (400)', async (prompt, parameters, message) => {
    await expect(server.infer('textgen', request(prompt, parameters))).rejects.toMatchObject({ status: 400, message: expect.stringMatching(message) });
  });
});

describe('NGramModel', () => {
  it('backs off from two words to one to the word frequencies', () => {
    const model = NGramModel.fromText('a b c a b d a x');
    const random = seededRandom(1);
    expect(model.next('x', 'a', random, 0)).toBe('b'); // 'x a' unknown: after 'a', 'b' is most frequent
    expect(model.next(undefined, 'zzz', random, 0)).toBe('a'); // unknown: the most frequent word
    expect(model.vocabulary).toBe(5);
  });
});
