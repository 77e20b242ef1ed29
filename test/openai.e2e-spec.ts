import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import OpenAI from 'openai';
import { EchoFixture } from './fixtures/test-models';
import { createApp, send } from './helpers/test-app';
import { TextGenModel } from '../samples/textgen/textgen.model';

const TEXTGEN = { name: 'textgen', model: TextGenModel, modelPath: join(__dirname, '..', 'samples', 'textgen') };

/** The official openai client, pointed at the server's OpenAI-compatible routes. */
describe('the OpenAI-compatible API, through the openai client', () => {
  let app: NestFastifyApplication;
  let client: OpenAI;
  beforeAll(async () => {
    app = await createApp({ models: [TEXTGEN, { name: 'echo', model: EchoFixture }] }, 'socket');
    const { port } = app.getHttpServer().address() as AddressInfo;
    client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/openai/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => app.close());

  const messages = [
    { role: 'system' as const, content: 'You tell stories.' },
    { role: 'user' as const, content: 'the White Rabbit' },
  ];

  it('lists the models that take text prompts', async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    expect(models).toEqual(['textgen']);
    expect((await client.models.retrieve('textgen')).id).toBe('textgen');
  });

  it('chat: the streamed chunks join into the answer without stream, for the same seed', async () => {
    const whole = await client.chat.completions.create({ model: 'textgen', messages, max_tokens: 10, seed: 42 });
    expect(whole.object).toBe('chat.completion');
    expect(whole.choices[0].message.role).toBe('assistant');
    expect(whole.choices[0].finish_reason).toBe('length');
    expect(whole.usage).toEqual({ prompt_tokens: 3, completion_tokens: 10, total_tokens: 13 });
    const stream = await client.chat.completions.create({ model: 'textgen', messages, max_tokens: 10, seed: 42, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let chunks = 0;
    let finish: string | null = null;
    let usage: unknown;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      if (chunk.choices.length === 0) continue;
      chunks++;
      text += chunk.choices[0].delta.content ?? '';
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    expect(chunks).toBeGreaterThanOrEqual(2);
    expect(text).toBe(whole.choices[0].message.content);
    expect(finish).toBe('length');
    expect(usage).toEqual(whole.usage);
  });

  it('completions: streamed and not, the same text for the same seed; stop ends the text before it', async () => {
    const whole = await client.completions.create({ model: 'textgen', prompt: 'Alice was', max_tokens: 12, seed: 5, temperature: 0.7 });
    expect(whole.object).toBe('text_completion');
    const stream = await client.completions.create({ model: 'textgen', prompt: 'Alice was', max_tokens: 12, seed: 5, temperature: 0.7, stream: true });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0].text;
    }
    expect(chunks).toBeGreaterThanOrEqual(2);
    expect(text).toBe(whole.choices[0].text);
    const stop = whole.choices[0].text.split(' ').slice(3, 5).join(' ');
    const stopped = await client.completions.create({ model: 'textgen', prompt: 'Alice was', max_tokens: 12, seed: 5, temperature: 0.7, stop });
    expect(stopped.choices[0]).toMatchObject({ text: whole.choices[0].text.slice(0, whole.choices[0].text.indexOf(stop)), finish_reason: 'stop' });
  });

  it.each([
    ['an empty prompt', { model: 'textgen', prompt: '' }, 400, /prompt/, 'prompt'],
    ['max_tokens 0', { model: 'textgen', prompt: 'Alice', max_tokens: 0 }, 400, /max_tokens/, 'max_tokens'],
    ['max_completion_tokens 1.5', { model: 'textgen', prompt: 'Alice', max_tokens: 3, max_completion_tokens: 1.5 }, 400, /max_completion_tokens/, 'max_completion_tokens'],
    ['max_tokens beyond what the model takes', { model: 'textgen', prompt: 'Alice', max_tokens: 100000 }, 400, /max_tokens/, 'max_tokens'],
    ['n 2', { model: 'textgen', prompt: 'Alice', n: 2 }, 400, /"n"/, 'n'],
    ['an unknown model', { model: 'nope', prompt: 'Alice' }, 404, /nope/, null],
    ['a model without textGeneration', { model: 'echo', prompt: 'Alice', stream: true }, 404, /'echo' does not take text prompts/, null],
  ])('%s: an APIError from the client, OpenAI\'s error body with the status and the field at fault', async (_what, body, status, message, param) => {
    const failure = await client.completions.create(body as never).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
    expect((failure as InstanceType<typeof OpenAI.APIError>).message).toMatch(message);
    expect((failure as InstanceType<typeof OpenAI.APIError>).param).toBe(param);
    const raw = await send(app, 'POST', '/openai/v1/completions', body);
    expect(raw.body).toEqual({ error: { message: expect.stringMatching(message), type: expect.any(String), param, code: null } });
  });

  it('a chat message at fault is named as the error\'s param', async () => {
    const failure = await client.chat.completions
      .create({ model: 'textgen', messages: [{ role: 'user', content: 'hi' }, { role: '', content: 'x' }] as never })
      .then(() => undefined, (err: unknown) => err as InstanceType<typeof OpenAI.APIError>);
    expect([failure?.status, failure?.param]).toEqual([400, 'messages[1].role']);
  });

  it('malformed JSON and unknown routes answer in OpenAI\'s error shape', async () => {
    const bad = await send(app, 'POST', '/openai/v1/chat/completions', '{"model":', { 'content-type': 'application/json' });
    expect([bad.status, bad.body.error.type]).toEqual([400, 'invalid_request_error']);
    const missing = await send(app, 'GET', '/openai/v1/embeddings');
    expect([missing.status, missing.body.error.type]).toEqual([404, 'not_found_error']);
  });
});
