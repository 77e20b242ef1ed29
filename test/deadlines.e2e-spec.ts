import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ModelServer, type InferenceRequest, type InferenceResult, type RequestContext } from 'nest-model-server';
import { SlowModel } from '../samples/slow/slow.model';
import { createApp, DOORS, send } from './helpers/test-app';

/** Waits `delay_ms`, recording whether and why its signal fired. */
class SignalProbe extends ModelServer {
  static seen: { id: string; aborted: boolean; reason: string }[] = [];
  async predict(req: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    const delay = Number(req.parameters?.delay_ms ?? 0);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    SignalProbe.seen.push({ id: ctx.id, aborted: ctx.signal.aborted, reason: String((ctx.signal.reason as Error | undefined)?.message ?? '') });
    return { outputs: [{ name: 'y', datatype: 'INT8', shape: [1], data: [1] }] };
  }
}

/** Ignores every signal: the data plane must still answer on time. */
class Stubborn extends ModelServer {
  async predict(req: InferenceRequest): Promise<InferenceResult> {
    await new Promise((r) => setTimeout(r, Number(req.parameters?.delay_ms ?? 0)));
    return { outputs: [{ name: 'y', datatype: 'INT8', shape: [1], data: [1] }] };
  }
}

/** Calls `stubborn` on behalf of its request: the parent's deadline must carry on. */
class Caller extends ModelServer {
  predict(req: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    return ctx.infer('stubborn', { parameters: req.parameters, inputs: [{ name: 'x', datatype: 'INT8', shape: [1], data: [1] }] });
  }
}

const body = (delay: number, id?: string) => ({ id, parameters: { delay_ms: delay }, inputs: [{ name: 'x', datatype: 'INT8', shape: [1], data: [1] }] });

describe.each(DOORS)('deadlines, cancellation and backpressure (%s)', (door) => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    SignalProbe.seen.length = 0;
    app = await createApp({
      maxInFlight: 50,
      models: [
        { name: 'slow', model: SlowModel },
        { name: 'probe', model: SignalProbe },
        { name: 'stubborn', model: Stubborn },
        { name: 'caller', model: Caller },
        { name: 'quick', model: Stubborn, timeoutMs: 100 },
        { name: 'narrow', model: Stubborn, maxInFlight: 2 },
      ],
    }, door);
  });
  afterAll(() => app.close());

  it('X-Request-Timeout shorter than the work: 504 on time, and the model sees its signal fire', async () => {
    const started = Date.now();
    const res = await send(app, 'POST', '/v2/models/probe/infer', body(3000, 'late-1'), { 'x-request-timeout': '150ms' });
    const took = Date.now() - started;
    expect(res.status).toBe(504);
    expect(res.body.error).toMatch(/deadline passed during predict/);
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1500);
    await new Promise((r) => setTimeout(r, 20));
    expect(SignalProbe.seen.find((s) => s.id === 'late-1')).toEqual({ id: 'late-1', aborted: true, reason: expect.stringMatching(/deadline passed/) });
  });

  it('the slow sample stops as soon as its signal fires', async () => {
    const started = Date.now();
    const res = await send(app, 'POST', '/v2/models/slow/infer', body(5000), { 'x-request-timeout': '0.1s' });
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a model that ignores its signal still gets a 504 on time', async () => {
    const started = Date.now();
    const res = await send(app, 'POST', '/v2/models/stubborn/infer', body(2000), { 'x-request-timeout': '100' });
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('the model\'s timeoutMs applies when it is the shortest', async () => {
    const res = await send(app, 'POST', '/v2/models/quick/infer', body(2000), { 'x-request-timeout': '10s' });
    expect(res.status).toBe(504);
    expect((await send(app, 'POST', '/v2/models/quick/infer', body(10))).status).toBe(200);
  });

  it('the parent\'s deadline carries on into nested calls', async () => {
    const started = Date.now();
    const res = await send(app, 'POST', '/v2/models/caller/infer', body(2000), { 'x-request-timeout': '120' });
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('requests within their deadline are answered', async () => {
    const res = await send(app, 'POST', '/v2/models/probe/infer', body(20, 'fast-1'), { 'x-request-timeout': '5s' });
    expect(res.status).toBe(200);
    expect(SignalProbe.seen.find((s) => s.id === 'fast-1')?.aborted).toBe(false);
  });

  it.each(['soon', '-5', '0', '1h', '99999999999'])('a bad X-Request-Timeout %p is a 400', async (value) => {
    const res = await send(app, 'POST', '/v2/models/probe/infer', body(0), { 'x-request-timeout': value });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/x-request-timeout/);
  });

  it('beyond a model\'s maxInFlight: 503 with Retry-After, and health is answered meanwhile', async () => {
    const busy = [send(app, 'POST', '/v2/models/narrow/infer', body(300)), send(app, 'POST', '/v2/models/narrow/infer', body(300))];
    await new Promise((r) => setTimeout(r, 30));
    const third = await send(app, 'POST', '/v2/models/narrow/infer', body(0));
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBe('1');
    expect(third.body.error).toMatch(/model 'narrow' already has 2 requests in flight/);
    expect((await send(app, 'GET', '/v2/health/live')).status).toBe(200);
    expect((await Promise.all(busy)).map((r) => r.status)).toEqual([200, 200]);
    expect((await send(app, 'POST', '/v2/models/narrow/infer', body(0))).status).toBe(200);
  });

  it('beyond the server\'s maxInFlight: 503 with Retry-After', async () => {
    const busy = Array.from({ length: 50 }, () => send(app, 'POST', '/v2/models/stubborn/infer', body(300)));
    await new Promise((r) => setTimeout(r, 50));
    const extra = await send(app, 'POST', '/v2/models/probe/infer', body(0));
    expect(extra.status).toBe(503);
    expect(extra.body.error).toMatch(/the server already has 50 requests in flight.*MAX_IN_FLIGHT/);
    expect((await Promise.all(busy)).every((r) => r.status === 200)).toBe(true);
  });

  it('a client that goes away fires the request\'s signal', async () => {
    if (!app.getHttpServer().listening) await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v2/models/probe/infer', headers: { 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    req.end(JSON.stringify(body(5000, 'gone-1')));
    await new Promise((r) => setTimeout(r, 150));
    req.destroy();
    for (let i = 0; i < 100 && !SignalProbe.seen.some((s) => s.id === 'gone-1'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(SignalProbe.seen.find((s) => s.id === 'gone-1')).toEqual({ id: 'gone-1', aborted: true, reason: expect.stringMatching(/client went away/) });
  });
});

describe.each(DOORS)('the server-wide request timeout (%s)', (door) => {
  it('applies to every request unless a shorter one is given', async () => {
    const app = await createApp({ requestTimeoutMs: 100, models: [{ name: 'stubborn', model: Stubborn }] }, door);
    try {
      expect((await send(app, 'POST', '/v2/models/stubborn/infer', body(1000))).status).toBe(504);
      expect((await send(app, 'POST', '/v2/models/stubborn/infer', body(5))).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
