import type { AddressInfo } from 'node:net';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createFastifyAdapter, ModelServer, ModelServerModule, type InferenceRequest, type InferenceResult, type ModelServerModuleOptions } from 'nest-model-server';
import { EchoFixture } from './fixtures/test-models';
import { request } from 'node:http';

/** Echoes once the test lets it go, so requests can be held in flight. */
class GateFixture extends ModelServer {
  static release: () => void = () => undefined;
  static entered: () => void = () => undefined;
  async predict(request: InferenceRequest): Promise<InferenceResult> {
    GateFixture.entered();
    await new Promise<void>((resolve) => (GateFixture.release = resolve));
    return { outputs: request.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data })) };
  }
}

async function listen(options: Partial<ModelServerModuleOptions>): Promise<{ app: NestFastifyApplication; port: number }> {
  const moduleRef = await Test.createTestingModule({
    imports: [ModelServerModule.forRoot({ models: [{ name: 'echo', model: EchoFixture }, { name: 'gate', model: GateFixture }], ...options })],
  }).compile();
  // The lane is off by default: on here, so that the suite runs through both doors.
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter({ fastLane: true }), { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, port: (app.getHttpServer().address() as AddressInfo).port };
}

const tensor = (name: string, n = 1) => ({ name, datatype: 'UINT8', shape: [n], data: new Array(n).fill(1) });

/**
 * The request limits, over both doors of the JSON infer route: the fast lane (Content-Length, JSON) and the
 * Fastify route (chunked body).
 */
describe.each([
  ['the fast lane', {}],
  ['the Fastify route', { 'transfer-encoding': 'chunked' }],
])('request limits through %s', (_door, framing) => {
  let app: NestFastifyApplication;
  let port: number;

  beforeAll(async () => {
    ({ app, port } = await listen({ maxInputs: 4, maxOutputs: 2, maxParameters: 3, maxRequestBytesInFlight: 200_000, maxJsonValueBytes: 65_536 }));
  });
  afterAll(() => app.close());

  function post(path: string, body: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: { error?: string } }> {
    const text = JSON.stringify(body);
    const chunked = 'transfer-encoding' in framing;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(chunked ? framing : { 'content-length': String(Buffer.byteLength(text)) }) };
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString()) }));
      });
      req.on('error', reject);
      if (chunked) req.write(text.slice(0, 10));
      req.end(chunked ? text.slice(10) : text);
    });
  }

  it.each([
    ['inputs', { inputs: [1, 2, 3, 4, 5].map((i) => tensor(`x${i}`)) }, /5 inputs; the limit is 4 \(maxInputs\)/],
    ['outputs', { inputs: [tensor('x')], outputs: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }, /3 requested outputs; the limit is 2 \(maxOutputs\)/],
    ['request parameters', { parameters: { a: 1, b: 2, c: 3, d: 4 }, inputs: [tensor('x')] }, /the parameters of the request .* \(maxParameters\)/],
    ['input parameters', { inputs: [{ ...tensor('x'), parameters: { a: 1, b: 2, c: 3, d: 4 } }] }, /the parameters of input 0 .* \(maxParameters\)/],
  ])('too many %s is a 400 naming the setting', async (_what, body, message) => {
    const res = await post('/v2/models/echo/infer', body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
  });

  it('a large body whose values outside tensor data would take more than maxJsonValueBytes is a 400 naming it; its tensor data is not counted', async () => {
    const data = tensor('x', 40_000); // 80 KB of tensor data: a large body, read in slices, its data not counted
    const over = await post('/v2/models/echo/infer', { parameters: { p: new Array(1100).fill({}) }, inputs: [data] }); // 1,100 objects: ~70 KB
    expect(over.status).toBe(400);
    expect(over.body.error).toMatch(/^the JSON values outside tensor data would take more than 65536 bytes of memory \(maxJsonValueBytes\)/);
    expect((await post('/v2/models/echo/infer', { parameters: { p: new Array(500).fill({}) }, inputs: [data] })).status).toBe(200);
  });

  it('within the limits the request is served', async () => {
    const res = await post('/v2/models/echo/infer', { parameters: { a: 1 }, inputs: [tensor('x'), tensor('y')], outputs: [{ name: 'x' }] });
    expect(res.status).toBe(200);
  });

  it('a large body that does not fit in maxRequestBytesInFlight while another is held is a 503 with Retry-After', async () => {
    const big = { inputs: [tensor('x', 60_000)] }; // ~120 KB of JSON: two do not fit in 200,000 bytes
    const entered = new Promise<void>((resolve) => (GateFixture.entered = resolve));
    const first = post('/v2/models/gate/infer', big);
    await entered;
    const second = await post('/v2/models/echo/infer', big);
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('1');
    expect(second.body.error).toMatch(/maxRequestBytesInFlight/);
    expect((await post('/v2/models/echo/infer', { inputs: [tensor('x')] })).status).toBe(200); // small bodies are not counted
    GateFixture.release();
    expect((await first).status).toBe(200);
    expect((await post('/v2/models/echo/infer', big)).status).toBe(200); // released once answered
  });
});
