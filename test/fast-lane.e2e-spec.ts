import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  createFastifyAdapter,
  ModelRepository,
  ModelServerModule,
  type ModelServerModuleOptions,
} from 'nest-model-server';
import {
  InferenceEventStream,
  ModelServerMonitoringModule,
  type InferenceEvent,
  type MonitoringRecord,
  type MonitoringSink,
} from 'nest-model-server/monitoring';
import { BuggyFixture, EchoFixture, SumFixture } from './fixtures/test-models';
import { overHttp } from './helpers/test-app';

/**
 * The fast lane answers plain JSON infer requests before Fastify routes them. Fastify's own hooks tell which
 * requests reached Fastify: the lane's never do. Everything the lane does not take must still be answered by
 * the Fastify route, exactly as before.
 */
/**
 * An application listening on loopback, with an `onRequest` hook that records the URLs that reached Fastify. The
 * lane is forced on by default ('always'): a request hook the application adds would otherwise turn it off.
 */
async function listening(
  options: ModelServerModuleOptions,
  fastLane: boolean | 'always' = 'always',
  sink?: MonitoringSink,
  setUp?: (app: NestFastifyApplication) => void,
  logger: LoggerService | false = false,
) {
  const imports = [ModelServerModule.forRoot(options)];
  if (sink !== undefined) imports.push(ModelServerMonitoringModule.forRoot({ sink, batchSize: 1, metrics: false }));
  const moduleRef = await Test.createTestingModule({ imports }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter({ fastLane }), { logger });
  setUp?.(app);
  const seenByFastify: string[] = [];
  app.getHttpAdapter().getInstance().addHook('onRequest', (req, _reply, done) => {
    seenByFastify.push(req.url);
    done();
  });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const call = async (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) => {
    const res = await overHttp(port, method, path, body, body === undefined || 'content-type' in headers ? headers : { 'content-type': 'application/json', ...headers });
    return { ...res, text: res.raw.toString('utf8') };
  };
  return { app, call, seenByFastify };
}

/** A Nest logger that keeps every line it is given. */
function capturingLogger(): LoggerService & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: unknown) => void lines.push(String(message));
  return { lines, log: keep, error: keep, warn: keep, debug: keep, verbose: keep, fatal: keep };
}

const ECHO = JSON.stringify({ id: 'r-1', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [5.1, 3.5, 1.4] }] });

/** A monitoring sink that keeps the record bodies it is sent. */
function memorySink(): MonitoringSink & { bodies: string[] } {
  const bodies: string[] = [];
  return {
    bodies,
    name: 'memory',
    target: 'memory',
    maxInFlight: 1,
    available: true,
    init: async () => undefined,
    onAvailable: () => undefined,
    send: async (batch: readonly MonitoringRecord[]) => void bodies.push(...batch.map((r) => r.body)),
    close: async () => undefined,
  };
}

/** What must not differ between two doors: the event without its timing (and its id when the server made it). */
function sameFacts(event: InferenceEvent, generatedId: boolean): unknown {
  const { startedAt: _s, durationMs: _d, stages: _t, ...rest } = event;
  if (!generatedId) return rest;
  // The id the server made differs per request: compare everything else, with the id in its places.
  const id = event.id;
  return JSON.parse(JSON.stringify(rest, (_k, v: unknown) => (v === id ? '(generated)' : typeof v === 'bigint' ? String(v) : ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<unknown>, String) : v)));
}

/**
 * The headers an answer's door wrote: every header but `date` (the clock's) and `keep-alive` (Node's HTTP server
 * writes `Keep-Alive: timeout=N` on every answer over a kept-alive socket, from its `keepAliveTimeout`, whichever
 * door answered; an inject has no socket and no such header). No header is per request otherwise: the server
 * sends no request id header.
 */
function doorHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const { date: _date, 'keep-alive': _keepAlive, ...rest } = headers;
  return rest;
}

/** A record without its time fields (and its id when the server made it). */
function sameRecord(body: string, id: string | undefined): string {
  const text = body.replace(/"when":"[^"]*"/g, '"when":"…"').replace(/"microsec":\d+/g, '"microsec":0');
  return id === undefined ? text : text.split(id).join('(generated)');
}

describe('the fast lane', () => {
  let app: NestFastifyApplication;
  let call: Awaited<ReturnType<typeof listening>>['call'];
  let seenByFastify: string[];
  const sink = memorySink();

  beforeAll(async () => {
    ({ app, call, seenByFastify } = await listening(
      {
        models: [
          { name: 'echo', model: EchoFixture, versions: [{ version: '1' }, { version: '2' }] },
          { name: 'buggy', model: BuggyFixture },
          { name: 'nested', model: EchoFixture, inputPath: 'data.request' },
        ],
        maxBodyBytes: 2048,
      },
      'always',
      sink,
    ));
  });
  afterAll(() => app.close());
  beforeEach(() => seenByFastify.splice(0));

  /** The record bodies the sink has after `count` of them arrived. */
  const records = async (count: number): Promise<string[]> => {
    for (let i = 0; i < 200 && sink.bodies.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    return sink.bodies.slice();
  };

  /** Sends the same request through the lane (over HTTP) and the route (inject): same answer, event and record. */
  const sameAsTheRoute = async (path: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
    const events: InferenceEvent[] = [];
    const sub = app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
    try {
      const before = sink.bodies.length;
      const lane = await call('POST', path, body, headers);
      const afterLane = events.length;
      const laneRecords = (await records(before + afterLane)).slice(before);
      const route = await app.inject({ method: 'POST', url: path, payload: body, headers });
      const routeRecords = (await records(before + events.length)).slice(before + afterLane);
      expect(seenByFastify).toEqual([path]); // the inject only: the lane's request never reached Fastify
      expect(lane.status).toBe(route.statusCode);
      expect(doorHeaders(lane.headers)).toEqual(doorHeaders(route.headers));
      // One event per request through either door, with the same facts; and the same record.
      expect(events.length).toBe(2 * afterLane);
      expect(afterLane).toBeLessThanOrEqual(1);
      const generated = afterLane === 1 && events[0].id !== events[1].id;
      if (generated) expect(lane.text.split(events[0].id).join('(id)')).toBe(route.body.split(events[1].id).join('(id)'));
      else expect(lane.raw.equals(route.rawPayload)).toBe(true);
      if (afterLane === 1) {
        expect(sameFacts(events[0], generated)).toEqual(sameFacts(events[1], generated));
        expect(routeRecords).toHaveLength(laneRecords.length);
        for (let i = 0; i < laneRecords.length; i++) {
          expect(sameRecord(routeRecords[i], generated ? events[1].id : undefined)).toBe(sameRecord(laneRecords[i], generated ? events[0].id : undefined));
        }
      }
      return lane;
    } finally {
      sub.unsubscribe();
    }
  };

  it.each([
    ['/v2/models/echo/infer', ECHO],
    ['/v2/models/echo/versions/2/infer', ECHO],
    ['/v2/models/echo/infer/', ECHO],
    ['/v2/models/echo/infer', '{"id":"r-2","inputs":[{"name":"a","datatype":"INT64","shape":[2],"data":[9223372036854775807,-9223372036854775808]}]}'],
    ['/v2/models/echo/infer', '{"inputs":[{"name":"a","datatype":"INT32","shape":[2],"data":[1,2]}]}'],
    ['/v2/models/echo/infer', '{not json'],
    ['/v2/models/echo/infer', '{"inputs":[{"name":"a","datatype":"FP99","shape":[1],"data":[1]}]}'],
    ['/v2/models/echo/infer', ''],
    ['/v2/models/missing/infer', ECHO],
    ['/v2/models/echo/versions/9/infer', ECHO],
    ['/v2/models/buggy/infer', '{"id":"b","inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}'],
    ['/v2/models/nested/infer', JSON.stringify({ data: { request: JSON.parse(ECHO) } })],
  ])('POST %s %s: answered by the lane as the route answers, with the same event and record', async (path, body) => {
    await sameAsTheRoute(path, body);
  });

  it.each([
    ['a gzip body', gzipSync(ECHO), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
    ['a corrupt gzip body', Buffer.from('not gzip'), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
    ['binary framing', ECHO, { 'content-type': 'application/json', 'inference-header-content-length': String(ECHO.length) }],
    ['a CSV body', 'a,b', { 'content-type': 'text/csv' }],
    ['a bad timeout header', ECHO, { 'content-type': 'application/json', 'x-request-timeout': 'soon' }],
  ])('%s: answered by the lane as the route answers', async (_what, body, headers) => {
    await sameAsTheRoute('/v2/models/echo/infer', body, headers as Record<string, string>);
  });

  it('answers binary outputs in the lane too', async () => {
    const body = JSON.stringify({ id: 'bin', inputs: [{ name: 'x', datatype: 'INT32', shape: [2], data: [1, 2] }], parameters: { binary_data_output: true } });
    const lane = await call('POST', '/v2/models/echo/infer', body);
    expect(seenByFastify).toEqual([]);
    expect(lane.status).toBe(200);
    const headerLength = Number(lane.headers['inference-header-content-length']);
    expect(JSON.parse(lane.raw.subarray(0, headerLength).toString())).toMatchObject({ outputs: [{ name: 'x', parameters: { binary_data_size: 8 } }] });
    expect([...new Int32Array(lane.raw.buffer.slice(lane.raw.byteOffset + headerLength, lane.raw.byteOffset + lane.raw.length))]).toEqual([1, 2]);
  });

  it.each([
    ['a percent-encoded name', '/v2/models/ec%68o/infer', ECHO, {}, 200],
    ['a query string', '/v2/models/echo/infer?x=1', ECHO, {}, 200],
    ['a body over the limit', '/v2/models/echo/infer', 'x'.repeat(4096), {}, 413],
    ['a member route', '/v2/models/echo/member/infer', ECHO, {}, 404],
  ])('leaves %s to Fastify, which answers as before', async (_what, path, body, headers, status) => {
    const res = await call('POST', path, body, headers as Record<string, string>);
    expect(res.status).toBe(status);
    if (status !== 200) expect(JSON.parse(res.text)).toEqual({ error: expect.any(String) });
    expect(seenByFastify).toEqual([path]);
  });

  it('gives monitoring one event per request, refusals included', async () => {
    const events: InferenceEvent[] = [];
    const sub = app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
    try {
      await call('POST', '/v2/models/echo/infer', ECHO);
      await call('POST', '/v2/models/echo/infer', '{"id":"bad","inputs":[{"name":"a"}]}', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
      const late = await call('POST', '/v2/models/echo/infer', ECHO.replace('r-1', 'late'), { 'content-type': 'application/json', 'x-request-timeout': 'soon' });
      expect(late.status).toBe(400);
    } finally {
      sub.unsubscribe();
    }
    expect(seenByFastify).toEqual([]);
    expect(events.map((e) => [e.id, e.model, e.op, e.protocol, e.status, e.errorCode])).toEqual([
      ['r-1', 'echo', 'infer', 'rest', 'ok', undefined],
      ['bad', 'echo', 'infer', 'rest', 'error', 'INVALID_REQUEST'],
      ['late', 'echo', 'infer', 'rest', 'error', 'INVALID_REQUEST'],
    ]);
    expect(events[1].traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('steps aside once shutdown has begun: Fastify answers 503', async () => {
    const moduleOptions = { models: [{ name: 'echo', model: EchoFixture }] };
    const other = await listening(moduleOptions);
    try {
      other.app.get(ModelRepository).beginShutdown();
      const res = await other.call('POST', '/v2/models/echo/infer', ECHO);
      expect(res.status).toBe(503);
      expect(other.seenByFastify).toEqual(['/v2/models/echo/infer']);
    } finally {
      await other.app.close();
    }
  });

  it('is off when not asked for (the default, which follows npm run bench -- infer-real): Fastify sees every request and no lane ever turned off', async () => {
    const logged = capturingLogger();
    const moduleRef = await Test.createTestingModule({ imports: [ModelServerModule.forRoot({ models: [{ name: 'echo', model: EchoFixture }] })] }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: logged });
    const seenByFastify: string[] = [];
    app.getHttpAdapter().getInstance().addHook('onRequest', (req, _reply, done) => {
      seenByFastify.push(req.url);
      done();
    });
    await app.listen(0, '127.0.0.1');
    try {
      const res = await overHttp((app.getHttpServer().address() as AddressInfo).port, 'POST', '/v2/models/echo/infer', ECHO, { 'content-type': 'application/json' });
      expect(res.status).toBe(200);
      expect(seenByFastify).toEqual(['/v2/models/echo/infer']);
      // With fastLane: true the same hook turns the lane off and says so; off from the start, nothing is said.
      expect(logged.lines.filter((l) => l.includes('fast lane'))).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('is off with fastLane: false, and the route answers the same', async () => {
    const other = await listening({ models: [{ name: 'echo', model: EchoFixture }] }, false);
    try {
      const res = await other.call('POST', '/v2/models/echo/infer', ECHO);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ id: 'r-1', outputs: [{ name: 'x', data: [5.1, 3.5, 1.4] }] });
      expect(other.seenByFastify).toEqual(['/v2/models/echo/infer']);
    } finally {
      await other.app.close();
    }
  });

  it.each([
    ['a request hook', undefined, {}, 'the application added an onRequest hook'],
  ] as const)('turns itself off when the application adds %s: Fastify sees every request, and the log says why', async (_what, setUp, headers, reason) => {
    // fastLane: true (not 'always'): the test's own onRequest hook alone turns it off; the other set-ups add theirs.
    const logged = capturingLogger();
    const other = await listening({ models: [{ name: 'echo', model: EchoFixture }] }, true, undefined, setUp, logged);
    try {
      const res = await other.call('POST', '/v2/models/echo/infer', ECHO, { 'content-type': 'application/json', origin: 'https://app.example' });
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject(headers);
      expect(other.seenByFastify).toEqual(['/v2/models/echo/infer']);
      expect(logged.lines.filter((l) => l.includes('fast lane off'))).toEqual([expect.stringContaining(reason)]);
    } finally {
      await other.app.close();
    }
  });

  it.each([
    ['stays on beside the framework\'s own hooks (auth, early answers) when the application adds none', undefined, []],
    ['turns itself off when the application enables CORS', (a: NestFastifyApplication) => a.enableCors({ origin: 'https://app.example' }), ['the application enabled CORS']],
    ['turns itself off when the application adds security headers', (a: NestFastifyApplication) => a.useSecurityHeaders(), ['the application added security headers']],
    ['turns itself off when the application has a global prefix', (a: NestFastifyApplication) => a.setGlobalPrefix('api'), ["the application has a global prefix ('api')"]],
  ] as const)('%s', async (_what, setUp, reasons) => {
    const logged = capturingLogger();
    const moduleRef = await Test.createTestingModule({ imports: [ModelServerModule.forRoot({ models: [{ name: 'echo', model: EchoFixture }], auth: { tokens: ['lane-token-1'] } })] }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter({ fastLane: true }), { logger: logged });
    setUp?.(app);
    await app.listen(0, '127.0.0.1');
    try {
      const port = (app.getHttpServer().address() as AddressInfo).port;
      const ok = await overHttp(port, 'POST', '/v2/models/echo/infer', ECHO, { 'content-type': 'application/json', authorization: 'Bearer lane-token-1', origin: 'https://app.example' });
      expect(ok.status).toBe(200);
      // CORS, when enabled, reaches the infer answer: Fastify's hooks saw the request.
      if (reasons.some((r) => r.includes('CORS'))) expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(logged.lines.some((l) => l.includes('Nest application successfully started'))).toBe(true); // the logger does see the log
      expect(logged.lines.filter((l) => l.includes('fast lane off'))).toEqual(reasons.map((r) => expect.stringContaining(r)));
    } finally {
      await app.close();
    }
  });

  it('checks credentials when auth is on; refused ones get Fastify\'s 401', async () => {
    const other = await listening({ models: [{ name: 'echo', model: EchoFixture }], auth: { tokens: ['lane-token-1'] } });
    try {
      const ok = await other.call('POST', '/v2/models/echo/infer', ECHO, { 'content-type': 'application/json', authorization: 'Bearer lane-token-1' });
      expect(ok.status).toBe(200);
      expect(other.seenByFastify).toEqual([]);
      const refused = await other.call('POST', '/v2/models/echo/infer', ECHO, { 'content-type': 'application/json', authorization: 'Bearer wrong-token' });
      expect(refused.status).toBe(401);
      expect(other.seenByFastify).toEqual(['/v2/models/echo/infer']);
    } finally {
      await other.app.close();
    }
  });

  it('logs the client\'s JSON text as the MLRun record\'s request when no hook changed it', async () => {
    const own = memorySink();
    const bodies = own.bodies;
    const other = await listening({ models: [{ name: 'echo', model: EchoFixture }, { name: 'sum', model: SumFixture }] }, 'always', own);
    let closed = false;
    try {
      const events: InferenceEvent[] = [];
      const sub = other.app.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
      // Tensors that are no batch of rows (a 2-D [rows, features] first input is logged as feature rows instead).
      const flat = JSON.stringify({ id: 'r-1', inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [5.1, 3.5, 1.4] }] });
      const noId = '{"inputs": [{"name":"x","datatype":"FP32","shape":[1,2,2],"data":[[[0.1234567891,2],[3,4]]]}]}';
      const pretty = JSON.stringify(JSON.parse(flat), null, 2);
      const sum = '{"id":"s-1","inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1.5,2]}]}';
      for (const [path, body] of [['/v2/models/echo/infer', flat], ['/v2/models/echo/infer', noId], ['/v2/models/echo/infer', pretty], ['/v2/models/sum/infer', sum]]) {
        expect((await other.call('POST', path, body)).status).toBe(200);
      }
      sub.unsubscribe();
      closed = true;
      await other.app.close(); // flushes the monitoring pipe
      expect(other.seenByFastify).toEqual([]);
      // The event carries the text only when the model has no preprocess/validate hook.
      expect(events.map((e) => e.requestText)).toEqual([flat, noId, pretty, undefined]);
      const requests = bodies.map((b) => JSON.parse(b).request);
      const generated = events[1].id;
      // As sent: the client's digits and nesting, the generated id put first when the client sent none.
      expect(bodies[0]).toContain(`"request":${flat},"op":"infer"`);
      expect(bodies[1]).toContain(`"request":{"id":"${generated}",${noId.slice(1)},"op":"infer"`);
      // A body with line breaks would split a JSON-lines record: the decoded request is written out instead.
      expect(bodies[2]).not.toContain('\n');
      expect(requests[2]).toEqual({ id: 'r-1', inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [5.1, 3.5, 1.4] }] });
      // After preprocess/validate: the request the model got, written from its tensors.
      expect(requests[3]).toEqual({ id: 's-1', inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1.5, 2] }] });
    } finally {
      if (!closed) await other.app.close();
    }
  });
});
