import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { http, rawRequest, ServerUnderTest, startCli, type RawAnswer } from './helpers/cli-process';
import { grpcFrame, grpcOverHttp2, GRPC, inferRequest, npy, npyHeader, parameterEntry } from './fixtures/hostile-requests';

/**
 * Generated hostile requests against the real process, from a fixed seed (a failing case is replayed by its
 * number): URLs, methods and v2 bodies as before, now also mutating content encodings (gzip, deflate, truncated,
 * corrupt, mislabelled, stacked), content types, HTTP framing (chunked or Content-Length, lying lengths, both at
 * once), the binary tensor framing (Inference-Header-Content-Length lying, negative, huge; binary tails),
 * SageMaker CSV / NPY / rows bodies, and gRPC messages, compression and length prefixes on the wire. Every answer
 * must be a valid status below 500, errors `{"error"}` bodies; the process must never exit; it must be ready at
 * the end.
 */

const CONFIG = join(__dirname, 'fixtures', 'fuzz-models.yaml');
const SEED = 20261121;
const CASES = 3200;
const GRPC_CASES = 400;
/** After this many process exits the run stops (each costs a restart); the cases so far are reported. */
const MAX_EXITS = 5;

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

/** One generated HTTP request: its bytes on the wire and how it may end. */
interface Case {
  /** A short description for the report (method, URL, headers, body kind). */
  label: string;
  method: string;
  bytes: Buffer;
  /** The request ends before its framing says it does (we half-close): no answer at all is acceptable. */
  incomplete: boolean;
}

const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'BF16', 'FP32', 'FP64', 'BYTES', 'FLOAT', 'int64', '', 'STRING'];
const WEIRD_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', 'x', '\u0000', [], {}, [[]], [null], { __proto__: { polluted: 1 } }];
const WEIRD_NUMBER_TEXT = ['1e309', '-1e400', '99999999999999999999999999', '-0', '0.0000000000000000000001', '18446744073709551616', '-9223372036854775809', '1E5', '01', '.5', 'NaN', 'Infinity', '1e999'];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'text/csv',
  'text/csv; header=present',
  'application/x-npy',
  'multipart/form-data; boundary=x',
  'image/png',
  'application/json; charset=latin1',
  ';;;',
  'application/*',
  'application/vnd.api+json',
];
const ENCODINGS = ['gzip', 'deflate', 'x-gzip', 'br', 'compress', 'gzip, gzip', 'identity', 'GZIP', ' gzip ', 'gzip;q=1', 'zstd'];

function generator(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

  const models = ['echo', 'iris', 'scorecard', 'ghost', '', '%00', '..', '__proto__', 'constructor', 'a'.repeat(300), 'échö', 'echo%2Finfer'];
  const tails = ['infer', 'explain', 'ready', '', 'weights', 'load', 'constructor', '__proto__', 'versions', 'infer/extra', '%2e%2e', 'toString'];
  const bases = () => {
    const model = pick(models);
    const version = rand() < 0.3 ? `/versions/${pick(['1', '2', '3', '', '-1', '1e3', 'x'.repeat(300)])}` : '';
    return `/v2/models/${encodeURI(model)}${version}`;
  };
  const url = () => {
    const r = rand();
    if (r < 0.6) return `${bases()}/${pick(tails)}${rand() < 0.1 ? '?x=' + encodeURIComponent('&'.repeat(int(50))) : ''}`;
    if (r < 0.7) return pick(['/invocations', '/invocations', '/ping', '/execution-parameters', '/v2/repository/models/echo/unload', '/v2/repository/models/iris/load', '/v2/repository/index']);
    if (r < 0.8) return pick(['/v2', '/v2/', '/v2/health/live', '/v2/health/ready', '/v2/models', '/', '/docs', '/openapi.json', '/metrics']);
    if (r < 0.9) return '/' + pick(['v2//models', 'v2/models//infer', 'v3/models/echo/infer', '%zz', 'v2/%', encodeURI('\u00e9'), 'v2/' + 'a/'.repeat(200)]);
    return `/v2/models/echo/${'x'.repeat(int(2000))}`;
  };

  const tensor = (): Record<string, unknown> => {
    const datatype = pick(DATATYPES);
    const shape = rand() < 0.8 ? Array.from({ length: int(4) }, () => (rand() < 0.9 ? int(4) : pick([-1, 1.5, 2 ** 32, 2 ** 40, 2 ** 53, '3', null]))) : pick(WEIRD_VALUES);
    const count = Array.isArray(shape) ? shape.reduce((a: number, b) => a * (typeof b === 'number' && b >= 0 && b < 5 ? b : 1), 1) : 1;
    const value = () => (rand() < 0.8 ? (datatype === 'BYTES' ? 'abc' : datatype === 'BOOL' ? rand() < 0.5 : int(300) - 150) : pick(WEIRD_VALUES));
    const data = rand() < 0.85 ? Array.from({ length: Math.min(count + (rand() < 0.2 ? int(3) - 1 : 0), 64) }, value) : pick(WEIRD_VALUES);
    const t: Record<string, unknown> = { name: rand() < 0.9 ? pick(['x', 'input-0', 'age', '', 'a'.repeat(1000)]) : pick(WEIRD_VALUES), datatype, shape, data };
    if (rand() < 0.2) delete t[pick(['name', 'datatype', 'shape', 'data'])];
    if (rand() < 0.1) t.parameters = pick([{ binary_data_size: int(100) }, { __proto__: { x: 1 } }, 'p', null, { content_type: 'str' }]);
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

  /** A binary-framed v2 body: its JSON header (binary_data_size on each input) and a tail that may not fit it. */
  const binaryBody = (): { body: Buffer; headerLength: number } => {
    const n = 1 + int(3);
    const sizes = Array.from({ length: n }, () => pick([0, 4, 8, 12, int(64), -4, 2 ** 40]));
    const header = Buffer.from(
      JSON.stringify({
        inputs: sizes.map((size, i) => ({ name: `x${i}`, datatype: pick(['INT32', 'FP32', 'BYTES', 'UINT8', 'FP16', 'BOOL']), shape: [Math.max(0, Math.floor(Math.abs(size) / 4))], parameters: { binary_data_size: size } })),
        ...(rand() < 0.3 ? { outputs: [{ name: 'x0', parameters: { binary_data: true } }] } : {}),
      }),
    );
    const fits = sizes.reduce((a, b) => a + (b > 0 && b < 1000 ? b : 0), 0);
    const tail = rand() < 0.6 ? bytes(fits) : bytes(int(80));
    return { body: Buffer.concat([header, tail]), headerLength: header.length };
  };

  /** A SageMaker body: CSV rows, JSON rows or an NPY array, well-formed or not. */
  const contentBody = (): { body: Buffer; type: string } => {
    const r = rand();
    if (r < 0.4) {
      const rows = Array.from({ length: 1 + int(4) }, () => Array.from({ length: 1 + int(5) }, () => (rand() < 0.9 ? String(int(100) / 10) : pick(WEIRD_NUMBER_TEXT.concat(['', '"', 'abc', '1'.repeat(300) + 'x'])))).join(','));
      return { body: Buffer.from(rows.join(pick(['\n', '\r\n', '\n\n']))), type: pick(['text/csv', 'text/csv; header=present']) };
    }
    if (r < 0.7) {
      const rows = Array.from({ length: 1 + int(4) }, () => Array.from({ length: 1 + int(5) }, () => (rand() < 0.9 ? int(100) / 10 : pick(WEIRD_VALUES))));
      const text = pick([JSON.stringify(rows), JSON.stringify({ instances: rows }), JSON.stringify({ inputs: rows }), JSON.stringify(rows).replace(/\d+/, pick(WEIRD_NUMBER_TEXT))]);
      return { body: Buffer.from(text), type: 'application/json' };
    }
    const descr = pick(['<f4', '<f8', '<i8', '|u1', '|S1', '|S3', '<c8', '>f4', '|b1', 'O', '<U4']);
    const shape = Array.from({ length: 1 + int(2) }, () => int(5));
    const count = shape.reduce((a, b) => a * b, 1);
    const header = rand() < 0.8 ? npyHeader(descr, shape) : pick([`{'descr': '${descr}'}`, '{', `{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }`, `${npyHeader(descr, shape)}${' '.repeat(12000)}`, "'shape': (".repeat(500)]);
    const file = npy(header, bytes(rand() < 0.7 ? count * 8 : int(40)));
    return { body: rand() < 0.1 ? file.subarray(0, int(file.length)) : file, type: 'application/x-npy' };
  };

  /** Compresses, mis-compresses or mislabels a body; the Content-Encoding to send with it (or none). */
  const encode = (body: Buffer): { body: Buffer; encoding?: string } => {
    const r = rand();
    const z = () => (rand() < 0.6 ? gzipSync(body) : deflateSync(body));
    if (r < 0.3) return { body: gzipSync(body), encoding: pick(['gzip', 'x-gzip', 'GZIP', ' gzip ']) };
    if (r < 0.45) return { body: deflateSync(body), encoding: 'deflate' };
    if (r < 0.55) return { body: z().subarray(0, int(30)), encoding: pick(['gzip', 'deflate']) }; // truncated
    if (r < 0.65) {
      const c = Buffer.from(z());
      for (let i = 10; i < c.length; i += 1 + int(7)) c[i] ^= 1 + int(255);
      return { body: c, encoding: pick(['gzip', 'deflate']) }; // corrupt
    }
    if (r < 0.72) return { body, encoding: pick(['gzip', 'deflate']) }; // labelled, not compressed
    if (r < 0.78) return { body: gzipSync(body) }; // compressed, not labelled
    if (r < 0.84) return { body: gzipSync(gzipSync(body)), encoding: pick(['gzip', 'gzip, gzip']) };
    if (r < 0.88) return { body: deflateRawSync(body), encoding: 'deflate' };
    if (r < 0.94) return { body: Buffer.concat([gzipSync(body), bytes(int(20))]), encoding: 'gzip' };
    return { body: bytes(int(100)), encoding: pick(ENCODINGS) };
  };

  /** The body as chunks of random sizes, perhaps with a broken chunk or without the last chunk. */
  const chunked = (body: Buffer): { body: Buffer; incomplete: boolean } => {
    const parts: Buffer[] = [];
    let at = 0;
    let waitsForMore = false;
    while (at < body.length) {
      const size = Math.min(body.length - at, 1 + int(Math.max(1, Math.floor(body.length / 2))));
      const sizeText = rand() < 0.03 ? pick(['zz', '-1', 'ffffffffffff', '']) : size.toString(16) + (rand() < 0.05 ? ';ext=1' : '');
      // A huge chunk size makes the server wait for bytes that never come: the request ends early (we half-close).
      if (sizeText === 'ffffffffffff') waitsForMore = true;
      parts.push(Buffer.from(`${sizeText}\r\n`), body.subarray(at, at + size), Buffer.from('\r\n'));
      at += size;
    }
    if (rand() < 0.1) return { body: Buffer.concat(parts), incomplete: true }; // no last chunk
    parts.push(Buffer.from(rand() < 0.05 ? '0\r\nX-Trailer: t\r\n\r\n' : '0\r\n\r\n'));
    return { body: Buffer.concat(parts), incomplete: waitsForMore };
  };

  return (): Case => {
    const headers: [string, string][] = [['Host', '127.0.0.1'], ['Connection', 'close']];
    let kind: string;
    let body: Buffer | undefined;
    const target = url();
    const r = rand();
    if (r < 0.3) {
      kind = 'json';
      body = Buffer.from(jsonBody());
    } else if (r < 0.37) {
      kind = 'truncated json';
      body = Buffer.from(jsonBody().slice(0, int(80)));
    } else if (r < 0.42) {
      kind = 'random bytes';
      body = bytes(int(512));
    } else if (r < 0.46) {
      const depth = pick([10, 600, 5000, 100000]);
      kind = `nesting ${depth}`;
      body = Buffer.from('{"inputs":' + '['.repeat(depth) + ']'.repeat(rand() < 0.5 ? depth : int(depth)) + '}');
    } else if (r < 0.58) {
      const b = binaryBody();
      kind = 'binary framing';
      body = b.body;
      const lie = rand();
      const value =
        lie < 0.6 ? String(b.headerLength) : pick([String(b.headerLength + 5000), '-1', 'abc', '0', String(2 ** 60), '1e3', '', String(b.headerLength - 3), ' 12', '12, 13']);
      headers.push(['Inference-Header-Content-Length', value]);
    } else if (r < 0.7) {
      const c = contentBody();
      kind = `content ${c.type}`;
      body = c.body;
      if (rand() < 0.8) headers.push(['Content-Type', c.type]);
    } else if (r < 0.74) {
      kind = 'json value';
      body = Buffer.from(JSON.stringify(pick([[], 'string', 42, null, true, { inputs: {} }, { inputs: 'x' }, { inputs: [null] }, { ready: 'yes' }])));
    } else {
      kind = 'no body';
    }
    if (!headers.some(([k]) => k === 'Content-Type') && rand() < 0.7) headers.push(['Content-Type', pick(CONTENT_TYPES)]);
    const method = rand() < 0.85 ? (body === undefined && rand() < 0.5 ? 'GET' : 'POST') : pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    if (method === 'GET' || method === 'HEAD') body = undefined;
    if (body !== undefined && rand() < 0.35) {
      const e = encode(body);
      body = e.body;
      if (e.encoding !== undefined) headers.push(['Content-Encoding', e.encoding]);
      kind += ` +${e.encoding ?? 'unlabelled gzip'}`;
    }
    let incomplete = false;
    if (body !== undefined) {
      const f = rand();
      if (f < 0.65) headers.push(['Content-Length', String(body.length)]);
      else if (f < 0.85) {
        const c = chunked(body);
        body = c.body;
        incomplete = c.incomplete;
        headers.push(['Transfer-Encoding', 'chunked']);
        kind += ' chunked';
      } else if (f < 0.9) {
        headers.push(['Content-Length', String(body.length + 1 + int(500))]);
        incomplete = true;
        kind += ' short body';
      } else if (f < 0.94) {
        headers.push(['Content-Length', String(int(body.length))]);
        kind += ' long body';
      } else if (f < 0.97) {
        headers.push(['Content-Length', String(body.length)], ['Transfer-Encoding', 'chunked']);
        kind += ' CL+TE';
      } else {
        headers.push(['Content-Length', pick(['-1', 'abc', '1e3', ' ', `${body.length}, ${body.length}`])]);
        kind += ' bad Content-Length';
      }
    }
    const head = `${method} ${target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    const shown = headers.filter(([k]) => k !== 'Host' && k !== 'Connection').map(([k, v]) => `${k}: ${v.slice(0, 40)}`);
    return {
      label: `${method} ${target.slice(0, 80)} [${kind}] {${shown.join('; ')}}`,
      method,
      bytes: Buffer.concat([Buffer.from(head, 'latin1'), body ?? Buffer.alloc(0)]),
      incomplete,
    };
  };
}

/** What is wrong with an answer to a generated case, or undefined. */
function answerProblem(c: Case, a: RawAnswer): string | undefined {
  if (a.end === 'timeout' && a.status === 0) return 'no answer, and the connection still open after 10 s';
  if (a.status === 0) return c.incomplete ? undefined : `no answer (the connection ${a.end})`;
  if (a.status < 100 || a.status >= 500) return `status ${a.status}: ${a.body.slice(0, 200)}`;
  if (a.status < 400 || c.method === 'HEAD') return undefined;
  try {
    const body = JSON.parse(a.body) as unknown;
    const ok = typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string' && Object.keys(body).length <= 2;
    return ok ? undefined : `${a.status} without an {"error"} body: ${a.body.slice(0, 200)}`;
  } catch {
    return `${a.status} with a body that is not JSON: ${a.body.slice(0, 200)}`;
  }
}

/** Problems grouped by kind (the text before its first colon): a count and the first cases of each. */
class ProblemList {
  private readonly kinds = new Map<string, { count: number; examples: string[] }>();

  add(problem: string, example: string): void {
    const kind = problem.split(':')[0].trim();
    const entry = this.kinds.get(kind) ?? { count: 0, examples: [] };
    entry.count++;
    if (entry.examples.length < 3) entry.examples.push(example);
    this.kinds.set(kind, entry);
  }

  report(): string[] {
    return [...this.kinds.entries()].flatMap(([kind, { count, examples }]) => [`${count} × ${kind}`, ...examples.map((e) => `    ${e}`)]);
  }
}

/** One generated gRPC call on the wire: method, headers, body (frames that may lie). */
function grpcGenerator(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (n: number) => Math.floor(rand() * n);
  const valid = (): Buffer => {
    const n = int(3);
    return inferRequest({
      model: pick(['echo', 'iris', 'ghost', '', 'x'.repeat(300)]),
      version: rand() < 0.2 ? pick(['1', '2', '9', '']) : undefined,
      id: rand() < 0.2 ? 'id-1' : undefined,
      parameters: rand() < 0.2 ? [parameterEntry('binary_data_output', 'yes')] : undefined,
      inputs: Array.from({ length: n }, (_, i) => ({ name: `x${i}`, datatype: pick(['INT32', 'FP32', 'BYTES', 'INT64', 'BOOL', 'FP16', 'NOPE']), shape: [int(4)] })),
      raw: Array.from({ length: rand() < 0.8 ? n : int(4) }, () => Buffer.from(Array.from({ length: pick([0, 4, 8, 12, 5]) }, () => int(256)))),
      outputs: rand() < 0.2 ? [pick(['x0', 'nope'])] : undefined,
    });
  };
  const mutate = (b: Buffer): Buffer => {
    const c = Buffer.from(b);
    const r = rand();
    if (r < 0.3) for (let i = 0; i < 1 + int(4); i++) c[int(c.length)] ^= 1 << int(8);
    else if (r < 0.5) return c.subarray(0, int(c.length));
    else if (r < 0.6) return Buffer.concat([c.subarray(0, int(c.length)), Buffer.from(Array.from({ length: int(20) }, () => int(256))), c.subarray(int(c.length))]);
    return c;
  };
  return (): { label: string; method: string; body: Buffer; headers: Record<string, string> } => {
    const method = pick(['ModelInfer', 'ModelInfer', 'ModelInfer', 'ModelMetadata', 'ModelReady', 'ModelStreamInfer', 'RepositoryIndex']);
    let message = rand() < 0.7 ? mutate(valid()) : Buffer.from(Array.from({ length: int(200) }, () => int(256)));
    const headers: Record<string, string> = {};
    let compressed = false;
    const r = rand();
    let kind = 'plain';
    if (r < 0.15) {
      message = gzipSync(message);
      headers['grpc-encoding'] = 'gzip';
      compressed = true;
      kind = 'gzip';
    } else if (r < 0.22) {
      message = gzipSync(message).subarray(0, int(20));
      headers['grpc-encoding'] = pick(['gzip', 'deflate']);
      compressed = true;
      kind = 'truncated gzip';
    } else if (r < 0.27) {
      headers['grpc-encoding'] = pick(['br', 'snappy', 'identity', '']);
      compressed = rand() < 0.5;
      kind = `encoding ${headers['grpc-encoding']}`;
    } else if (r < 0.3) {
      compressed = true;
      kind = 'compressed flag, no encoding';
    }
    const lie = rand();
    const declared = lie < 0.9 ? message.length : pick([message.length + 10, 0, 0xffffffff, 64 * 1024 * 1024 + 1, Math.max(0, message.length - 3)]);
    let body = grpcFrame(message, compressed, declared);
    if (rand() < 0.05) body = Buffer.concat([body, grpcFrame(message)]);
    return { label: `${method} [${kind}${declared !== message.length ? `, length says ${declared}` : ''}] ${message.length} bytes`, method, body, headers };
  };
}

describe('hostile input: generated requests and oversized bodies on the real process', () => {
  // The probe preload reports, on SIGUSR2, anything request handling added to Object.prototype or Array.prototype.
  const probe = join(__dirname, 'fixtures', 'hostile-probe.js');
  const server = new ServerUnderTest(() => startCli(['--config', CONFIG], { LOG_LEVEL: 'fatal' }, 30000, { nodeFlags: ['--require', probe] }));
  afterAll(() => server.stop());

  it(`${CASES} generated HTTP requests and ${GRPC_CASES} gRPC calls (seed ${SEED}): the process never exits, no 5xx, every error is {"error"}`, async () => {
    await server.ensure();
    const next = generator(prng(SEED));
    const problems = new ProblemList();
    const exits: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < CASES && exits.length < MAX_EXITS; i++) {
      const c = next();
      const answer = await rawRequest(server.cli.port, c.bytes, { timeoutMs: 10000, halfClose: c.incomplete });
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const problem = answerProblem(c, answer);
      if (problem !== undefined) problems.add(problem, `#${i} ${c.label} → ${problem}`);
      if (server.cli.child.exitCode !== null || (answer.status === 0 && !(await processAlive()))) {
        exits.push(`#${i} ${c.label}: the process exited (code ${server.cli.child.exitCode})`);
        await server.ensure();
      }
    }
    const nextGrpc = grpcGenerator(prng(SEED + 1));
    const grpcStatuses = new Map<number | undefined, number>();
    for (let i = 0; i < GRPC_CASES && exits.length < MAX_EXITS; i++) {
      const c = nextGrpc();
      const answer = await grpcOverHttp2(server.cli.grpcPort, c.method, c.body, c.headers, 10000);
      grpcStatuses.set(answer.grpcStatus, (grpcStatuses.get(answer.grpcStatus) ?? 0) + 1);
      if (answer.grpcStatus === undefined || answer.grpcStatus === GRPC.UNKNOWN) {
        const problem = answer.grpcStatus === undefined ? `no gRPC status (${answer.error})` : `UNKNOWN: ${answer.message.slice(0, 200)}`;
        problems.add(problem, `gRPC #${i} ${c.label} → ${problem}`);
      }
      if (!(await processAlive())) {
        exits.push(`gRPC #${i} ${c.label}: the process exited (code ${server.cli.child.exitCode})`);
        await server.ensure();
      }
    }
    if (process.env.FUZZ_VERBOSE) console.log([...statuses.entries()].sort(), [...grpcStatuses.entries()]);
    expect(exits).toEqual([]);
    expect(problems.report()).toEqual([]);
    // The generator reaches the interesting answers, not only 404s.
    for (const status of [200, 400, 404, 415]) expect(statuses.get(status) ?? 0).toBeGreaterThan(20);
    for (const code of [GRPC.OK, GRPC.INVALID_ARGUMENT]) expect(grpcStatuses.get(code) ?? 0).toBeGreaterThan(10);
    // No prototype pollution in the server (bodies carried "__proto__" and "constructor.prototype" keys).
    server.cli.child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 300));
    expect(/hostile-probe: prototype additions (.*)/.exec(server.cli.output())?.[1]).toBe('[]');
    // Still ready and serving.
    expect((await http(server.cli.port, 'GET', '/v2/health/ready')).status).toBe(200);
    const echo = await http(server.cli.port, 'POST', '/v2/models/echo/infer', JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT8', shape: [1], data: [1] }] }));
    expect(echo.status).toBe(200);

    async function processAlive(): Promise<boolean> {
      await new Promise((r) => setTimeout(r, 20)); // an unhandled rejection ends the process a tick after the request
      return server.cli.child.exitCode === null && server.cli.child.signalCode === null;
    }
  }, 240000);

  it('a 300 MB body is answered 413 before it is all sent, and the server stays up', async () => {
    const cli = await server.ensure();
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
  }, 120000);
});
