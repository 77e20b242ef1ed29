import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import { createParser } from 'eventsource-parser';
import { createApp, send } from './helpers/test-app';
import { TextGenModel } from '../samples/textgen/textgen.model';

const DIR = join(__dirname, '..', 'samples', 'textgen');

/** A streaming model in a worker thread: its parts cross the thread boundary as they are produced. */
describe('streaming from worker threads', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp({
      models: [
        { name: 'textgen', model: TextGenModel, modelPath: DIR },
        { name: 'textgen-worker', model: TextGenModel, modelPath: DIR, modulePath: join(DIR, 'textgen.model.ts'), workers: 1 },
      ],
    });
  }, 60000);
  afterAll(() => app.close());

  const body = (parameters: Record<string, unknown>) => ({ text_input: 'Alice was', parameters: { max_tokens: 8, seed: 4, ...parameters } });
  const texts = (raw: Buffer): string[] => {
    const out: string[] = [];
    const parser = createParser({ onEvent: (e) => out.push(JSON.parse(e.data).text_output) });
    parser.feed(raw.toString('utf8'));
    return out;
  };

  it('streams the same words as in process, one event per word', async () => {
    const here = await send(app, 'POST', '/v2/models/textgen/generate_stream', body({}));
    const there = await send(app, 'POST', '/v2/models/textgen-worker/generate_stream', body({}));
    expect(there.status).toBe(200);
    expect(texts(there.raw).length).toBeGreaterThanOrEqual(2);
    expect(texts(there.raw)).toEqual(texts(here.raw));
    const whole = await send(app, 'POST', '/v2/models/textgen-worker/generate', body({}));
    expect(whole.body.text_output).toBe(texts(here.raw).join(''));
  });

  it('a deadline mid-stream stops the worker\'s model, and the worker serves the next stream', async () => {
    const events: InferenceEvent[] = [];
    const sub = app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
    const cut = await send(app, 'POST', '/v2/models/textgen-worker/generate_stream', body({ max_tokens: 200, delay_ms: 30 }), { 'x-request-timeout': '200ms' });
    sub.unsubscribe();
    expect(cut.raw.toString('utf8')).toMatch(/event: error/);
    expect(events.find((e) => e.stream !== undefined)?.stream?.ending).toBe('deadline');
    const next = await send(app, 'POST', '/v2/models/textgen-worker/generate_stream', body({}));
    expect(texts(next.raw).length).toBeGreaterThanOrEqual(2);
  });
});
