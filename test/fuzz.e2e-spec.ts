import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadServerConfig } from '../src/config/server-config';
import { createServer } from '../src/server';
import { startCli } from './helpers/cli-process';

const CONFIG = join(__dirname, 'fixtures', 'fuzz-models.yaml');
const SEED = 20261121;
const CASES = 3200;

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'BF16', 'FP32', 'FP64', 'BYTES', 'FLOAT', 'int64', '', 'STRING'];
const WEIRD_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', 'x', '\u0000', [], {}, [[]], [null], { __proto__: { polluted: 1 } }];
const WEIRD_NUMBER_TEXT = ['1e309', '-1e400', '99999999999999999999999999', '-0', '0.0000000000000000000001', '18446744073709551616', '-9223372036854775809', '1E5', '01', '.5', 'NaN', 'Infinity'];

function generator(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

  const models = ['echo', 'iris', 'scorecard', 'ghost', '', '%00', '..', '__proto__', 'constructor', 'a'.repeat(300), 'échö', 'echo%2Finfer'];
  const tails = ['infer', 'explain', 'ready', '', 'weights', 'load', 'constructor', '__proto__', 'versions', 'infer/extra', '%2e%2e', 'toString'];
  const bases = () => {
    const model = pick(models);
    const version = rand() < 0.3 ? `/versions/${pick(['1', '2', '3', '', '-1', '1e3', 'x'.repeat(300)])}` : '';
    return `/v2/models/${model}${version}`;
  };
  const url = () => {
    const r = rand();
    if (r < 0.7) return `${bases()}/${pick(tails)}${rand() < 0.1 ? '?x=' + encodeURIComponent('&'.repeat(int(50))) : ''}`;
    if (r < 0.8) return pick(['/v2', '/v2/', '/v2/health/live', '/v2/health/ready', '/v2/models', '/v2/repository/index', '/', '/docs', '/openapi.json']);
    if (r < 0.9) return '/' + pick(['v2//models', 'v2/models//infer', 'v3/models/echo/infer', '%zz', 'v2/%', '\u00e9', 'v2/' + 'a/'.repeat(200)]);
    return `/v2/models/echo/${'x'.repeat(int(2000))}`;
  };

  const tensor = (): Record<string, unknown> => {
    const datatype = pick(DATATYPES);
    const shape = rand() < 0.8 ? Array.from({ length: int(4) }, () => (rand() < 0.9 ? int(4) : pick([-1, 1.5, 2 ** 40, 2 ** 53, '3', null]))) : pick(WEIRD_VALUES);
    const count = Array.isArray(shape) ? shape.reduce((a: number, b) => a * (typeof b === 'number' && b >= 0 && b < 5 ? b : 1), 1) : 1;
    const value = () => (rand() < 0.8 ? (datatype === 'BYTES' ? 'abc' : datatype === 'BOOL' ? rand() < 0.5 : int(300) - 150) : pick(WEIRD_VALUES));
    const data = rand() < 0.85 ? Array.from({ length: Math.min(count + (rand() < 0.2 ? int(3) - 1 : 0), 64) }, value) : pick(WEIRD_VALUES);
    const t: Record<string, unknown> = { name: rand() < 0.9 ? pick(['x', 'input-0', 'age', '', 'a'.repeat(1000)]) : pick(WEIRD_VALUES), datatype, shape, data };
    if (rand() < 0.2) delete t[pick(['name', 'datatype', 'shape', 'data'])];
    if (rand() < 0.1) t.parameters = pick([{ binary_data_size: int(100) }, { __proto__: { x: 1 } }, 'p', null]);
    return t;
  };

  const jsonBody = (): string => {
    const body: Record<string, unknown> = { inputs: Array.from({ length: int(3) + (rand() < 0.9 ? 1 : 0) }, tensor) };
    if (rand() < 0.2) body.id = pick(['id', 5, null, {}, 'x'.repeat(5000)]);
    if (rand() < 0.2) body.parameters = pick<unknown>([{ binary_data_output: true }, { delay_ms: -5 }, [], 'x', null, { constructor: { prototype: { polluted: 1 } } }]);
    if (rand() < 0.2) body.outputs = pick([[{ name: 'x' }], [{ name: 'nope' }], [{}], 'all', [{ name: 'x', parameters: { binary_data: true } }]]);
    let text = JSON.stringify(body);
    if (rand() < 0.15) text = text.replace(/-?\d+/, pick(WEIRD_NUMBER_TEXT));
    if (rand() < 0.05) text = '{"__proto__":{"polluted":true},' + text.slice(1);
    return text;
  };

  return (): Case => {
    const r = rand();
    const headers: Record<string, string> = {};
    if (rand() < 0.7) headers['content-type'] = pick(['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'text/csv', 'multipart/form-data; boundary=x', 'image/png', 'application/json; charset=latin1', ';;;', 'application/*']);
    let payload: string | Buffer | undefined;
    if (r < 0.45) payload = jsonBody();
    else if (r < 0.55) payload = jsonBody().slice(0, int(80)); // truncated
    else if (r < 0.62) payload = bytes(int(512)); // random bytes
    else if (r < 0.67) {
      const depth = pick([10, 600, 5000, 100000]);
      payload = '{"inputs":' + '['.repeat(depth) + ']'.repeat(rand() < 0.5 ? depth : int(depth)) + '}';
    } else if (r < 0.72) {
      payload = rand() < 0.5 ? gzipSync(Buffer.from(jsonBody())) : bytes(64);
      headers['content-encoding'] = pick(['gzip', 'deflate', 'br', 'compress', 'gzip, gzip', 'identity']);
    } else if (r < 0.78) {
      const json = jsonBody();
      payload = Buffer.concat([Buffer.from(json), bytes(int(64))]);
      headers['inference-header-content-length'] = pick([String(json.length), String(json.length + 5000), '-1', 'abc', '0', String(2 ** 60), '1e3']);
    } else if (r < 0.82) {
      payload = JSON.stringify(pick([[], 'string', 42, null, true, { inputs: {} }, { inputs: 'x' }, { inputs: [null] }, { ready: 'yes' }]));
    }
    const method = rand() < 0.85 ? (payload === undefined && rand() < 0.5 ? 'GET' : 'POST') : pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    return { method, url: url(), headers, payload: method === 'GET' || method === 'HEAD' ? undefined : payload };
  };
}

describe('hostile input', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createServer(loadServerConfig({ config: CONFIG }, {}), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  it(`${CASES} generated malformed or hostile requests (seed ${SEED}): no 5xx, every error is {"error": ...}`, async () => {
    const next = generator(prng(SEED));
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < CASES; i++) {
      const c = next();
      const res = await app.inject({ method: c.method as 'GET', url: c.url, headers: c.headers, payload: c.payload });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      let ok = res.statusCode < 500;
      if (ok && res.statusCode >= 400 && c.method !== 'HEAD') {
        try {
          const body = JSON.parse(res.body) as unknown;
          ok = typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string' && Object.keys(body).length <= 2;
        } catch {
          ok = false;
        }
      }
      if (!ok && problems.length < 10) problems.push(`#${i} ${c.method} ${c.url.slice(0, 120)} ${JSON.stringify(c.headers)} → ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    if (process.env.FUZZ_VERBOSE) console.log([...statuses.entries()].sort()); // eslint-disable-line no-console
    expect(problems).toEqual([]);
    // The generator reaches the interesting answers, not only 404s.
    for (const status of [200, 400, 404, 415]) expect(statuses.get(status) ?? 0).toBeGreaterThan(20);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    // Still ready and serving.
    expect((await app.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode).toBe(200);
    const echo = await app.inject({ method: 'POST', url: '/v2/models/echo/infer', payload: { inputs: [{ name: 'x', datatype: 'INT8', shape: [1], data: [1] }] } });
    expect(echo.statusCode).toBe(200);
  }, 240000);
});

describe('body limit on the real process', () => {
  it('a 300 MB body is answered 413 before it is all sent, and the server stays up', async () => {
    const cli = await startCli(['--config', CONFIG]);
    try {
      const total = 300 * 1024 * 1024;
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const result = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
        let sent = 0;
        const req = httpRequest({ host: '127.0.0.1', port: cli.port, method: 'POST', path: '/v2/models/echo/infer', headers: { 'content-type': 'application/json', 'content-length': String(total) } }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body, sent });
            req.destroy();
          });
        });
        // An error once the answer has come is the server closing the upload: expected. One before it is a
        // failure to report, not a promise left pending (which would leave the server process running).
        let answered = false;
        req.on('response', () => (answered = true));
        req.on('error', (err) => (answered ? undefined : reject(new Error(`no answer before the connection failed (${sent} bytes sent): ${err.message}`))));
        const pump = () => {
          while (sent < total) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body).error).toMatch(/larger than 67108864 bytes.*maxBodyBytes/);
      expect(result.sent).toBeLessThan(300 * 1024 * 1024);
      const ready = await fetch(`http://127.0.0.1:${cli.port}/v2/health/ready`);
      expect(ready.status).toBe(200);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  }, 120000);
});
