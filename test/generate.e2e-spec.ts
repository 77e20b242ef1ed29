import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { EchoFixture } from './fixtures/test-models';
import { createApp, DOORS, send } from './helpers/test-app';
import { TextGenModel } from '../samples/textgen/textgen.model';

const TEXTGEN = { name: 'textgen', model: TextGenModel, modelPath: join(__dirname, '..', 'samples', 'textgen'), versions: [{ version: '1' }] };

/** The events of a server-sent-events body, read with eventsource-parser. */
function eventsOf(body: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(body);
  return events;
}

describe.each(DOORS)("Triton's generate extension (%s)", (door) => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp({ models: [TEXTGEN, { name: 'echo', model: EchoFixture }] }, door);
  });
  afterAll(() => app.close());

  const prompt = { text_input: 'Alice was', parameters: { max_tokens: 6, seed: 3 } };

  it.each(['/v2/models/textgen', '/v2/models/textgen/versions/1'])('%s/generate_stream: one data event per word, whose texts join into /generate\'s answer', async (base) => {
    const whole = await send(app, 'POST', `${base}/generate`, prompt);
    expect(whole.status).toBe(200);
    expect(whole.body).toMatchObject({ model_name: 'textgen', text_output: expect.any(String) });
    const streamed = await send(app, 'POST', `${base}/generate_stream`, prompt);
    expect(streamed.status).toBe(200);
    expect(streamed.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = eventsOf(streamed.raw.toString('utf8'));
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.every((e) => e.event === undefined)).toBe(true);
    const parts = events.map((e) => JSON.parse(e.data) as { text_output: string; model_name: string });
    expect(parts[0].model_name).toBe('textgen');
    expect(parts.map((p) => p.text_output).join('')).toBe(whole.body.text_output);
  });

  it('a model that does not stream: 404 on generate_stream naming what it answers; /generate answers with its outputs as fields', async () => {
    const refused = await send(app, 'POST', '/v2/models/echo/generate_stream', { text_input: 'hi' });
    expect(refused.status).toBe(404);
    expect(refused.body.error).toMatch(/'echo' does not stream.*\/infer.*\/generate/);
    const answered = await send(app, 'POST', '/v2/models/echo/generate', { text_input: 'hi', n: [1, 2.5] });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ model_name: 'echo', text_input: 'hi', n: [1, 2.5] });
  });

  it.each([
    ['an empty prompt', { text_input: '' }, 400, /text_input/],
    ['max_tokens 0', { text_input: 'Alice', parameters: { max_tokens: 0 } }, 400, /max_tokens/],
    ['a body that is not an object', [1, 2], 400, /JSON object of input fields/],
    ['a nested field', { text_input: { a: 1 } }, 400, /text_input/],
  ])('%s: %d with {"error"} before any event', async (_what, body, status, message) => {
    const res = await send(app, 'POST', '/v2/models/textgen/generate_stream', body);
    expect([res.status, res.headers['content-type']]).toEqual([status, 'application/json; charset=utf-8']);
    expect(res.body.error).toMatch(message);
  });

  it('an unknown model: 404', async () => {
    const res = await send(app, 'POST', '/v2/models/nope/generate_stream', prompt);
    expect(res.status).toBe(404);
    expect(res.body.error).toMatch(/nope/);
  });

  it('a deadline that passes mid-stream: the parts so far, then an error event', async () => {
    const res = await send(app, 'POST', '/v2/models/textgen/generate_stream', { text_input: 'Alice', parameters: { max_tokens: 50, delay_ms: 40 } }, { 'x-request-timeout': '150ms' });
    expect(res.status).toBe(200);
    const events = eventsOf(res.raw.toString('utf8'));
    expect(events.length).toBeGreaterThanOrEqual(2);
    const last = events[events.length - 1];
    expect(last.event).toBe('error');
    expect(JSON.parse(last.data).error).toMatch(/deadline/);
  });
});
