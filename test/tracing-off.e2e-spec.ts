import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import { EchoFixture } from './fixtures/test-models';
import { createApp, DOORS, send } from './helpers/test-app';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

// No OpenTelemetry SDK is registered in this suite: tracing is off, and the server behaves as it did before it.
describe.each(DOORS)('tracing off (no SDK registered), through %s', (door) => {
  let app: NestFastifyApplication;
  const events: InferenceEvent[] = [];

  beforeAll(async () => {
    app = await createApp({ models: [{ name: 'echo', model: EchoFixture }] }, door);
    app.get(InferenceEventStream).listen((e) => events.push(e));
  });

  afterAll(() => app.close());

  it("answers without a traceparent, and the request's record keeps the caller's", async () => {
    const answer = await send(app, 'POST', '/v2/models/echo/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }, { traceparent: TRACEPARENT });
    expect(answer.status).toBe(200);
    expect(answer.headers).not.toHaveProperty('traceparent');
    expect(events.at(-1)).toMatchObject({ traceparent: TRACEPARENT });
    expect(events.at(-1)?.traceId).toBeUndefined();
  });
});
