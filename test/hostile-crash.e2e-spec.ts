import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connect } from 'node:net';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { http, httpBytes, isRunning, rawRequest, startCli, stopCli, type CliProcess, type RawAnswer } from './helpers/cli-process';
import {
  errorAnswerProblem,
  GRPC,
  grpcFrame,
  grpcOverHttp2,
  inferRequest,
  lengthField,
  openAIAnswerProblem,
  RawGrpcClient,
  varintField,
} from './fixtures/hostile-requests';

/**
 * Issue 13, class "crash": no request ends the server process. Every body-reading route gets every compressed
 * and framing variant (Content-Length and chunked), clients vanish mid-body, mid-model and mid-answer, and gRPC
 * gets broken messages, broken compression and lying length prefixes, on the real process. After each test the
 * process must still run and answer ready; a test that ended it gets a fresh server for the next test, so each
 * result stands alone.
 */

const CONFIG = join(__dirname, 'fixtures', 'hostile-server.yaml');
/** SageMaker's multi-model routes on too: `/models/{name}/invoke` reads a body. */
const ENV = { SAGEMAKER_MULTI_MODEL: 'true' };

let cli: CliProcess;

beforeAll(async () => {
  cli = await startCli(['--config', CONFIG], ENV);
}, 60000);
afterAll(() => stopCli(cli));
beforeEach(async () => {
  if (!isRunning(cli)) cli = await startCli(['--config', CONFIG], ENV);
}, 60000);

/** Undefined when the process still runs and answers ready; else what happened to it. */
async function survived(after: string): Promise<string | undefined> {
  // A process ended by an unhandled rejection is gone before it reads the next request: the probe fails, and then
  // its exit is awaited (this process hears of it a little later).
  const ready = isRunning(cli) ? await http(cli.port, 'GET', '/v2/health/ready') : { status: 0, body: '' };
  if (ready.status === 200) return undefined;
  await Promise.race([cli.exited, new Promise((r) => setTimeout(r, 1000))]);
  if (!isRunning(cli)) {
    const tail = cli.output().split('\n').slice(-6).join('\n').slice(-1500);
    return `the process exited after ${after} (code ${cli.child.exitCode}, signal ${cli.child.signalCode}); its last output:\n${tail}`;
  }
  return `not ready after ${after}: ${ready.status} ${ready.body.slice(0, 200)}`;
}

/** A body as Content-Length framing or as two chunks. */
function framed(body: Buffer, framing: 'length' | 'chunked'): { headers: Record<string, string>; body: Buffer } {
  if (framing === 'length') return { headers: {}, body };
  const half = Math.floor(body.length / 2);
  const parts = [body.subarray(0, half), body.subarray(half)].filter((p) => p.length > 0);
  const chunks = parts.map((p) => Buffer.concat([Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]));
  return { headers: { 'Transfer-Encoding': 'chunked' }, body: Buffer.concat([...chunks, Buffer.from('0\r\n\r\n')]) };
}

/**
 * Every route that reads a request body, and what it may answer to a bad one (besides the case's own statuses;
 * with `only`, these alone). `openai`: the error is OpenAI's `{"error": {"message", ...}}`.
 */
const BODY_ROUTES: { path: string; statuses: number[]; only?: boolean; openai?: boolean }[] = [
  { path: '/v2/models/echo/infer', statuses: [] },
  { path: '/v2/models/echo/explain', statuses: [404] }, // echo has no explain: a body that decodes is a 404
  { path: '/v2/models/count/stats', statuses: [] },
  { path: '/v2/models/echo/generate', statuses: [] },
  { path: '/v2/models/echo/generate_stream', statuses: [404] }, // echo does not stream: a body that decodes is a 404
  { path: '/v2/repository/index', statuses: [400, 415] },
  { path: '/v2/repository/models/echo/load', statuses: [400, 403, 415] },
  { path: '/v2/repository/models/echo/unload', statuses: [400, 403, 415] },
  { path: '/v1/models/echo:predict', statuses: [] },
  // A body that decodes is not a completion request (no "model", no "messages"): a 400 too.
  { path: '/openai/v1/completions', statuses: [], openai: true },
  { path: '/openai/v1/chat/completions', statuses: [], openai: true },
  { path: '/invocations', statuses: [400, 415] },
  // SageMaker sends bodies uncompressed: any Content-Encoding is a 415, before the body is read.
  { path: '/models/echo/invoke', statuses: [415], only: true },
];

const JSON_REQUEST = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2], data: [1, 2] }] }));
const TRUNCATED_JSON = Buffer.from('{"inputs":');

function corrupt(b: Buffer): Buffer {
  const c = Buffer.from(b);
  for (let i = 12; i < c.length - 8; i += 3) c[i] ^= 0x5a;
  return c;
}

interface EncodingCase {
  name: string;
  encoding: string;
  body: () => Buffer;
  /** What the infer route must answer (the other routes: their own statuses, or these). */
  statuses: number[];
  /** What the refusal must name. */
  names?: RegExp;
}

const ENCODING_CASES: EncodingCase[] = [
  { name: 'gzip of truncated JSON (the reported crash)', encoding: 'gzip', body: () => gzipSync(TRUNCATED_JSON), statuses: [400] },
  { name: 'deflate of truncated JSON', encoding: 'deflate', body: () => deflateSync(TRUNCATED_JSON), statuses: [400] },
  { name: 'x-gzip of truncated JSON', encoding: 'x-gzip', body: () => gzipSync(TRUNCATED_JSON), statuses: [400] },
  { name: 'a gzip stream cut in half', encoding: 'gzip', body: () => gzipSync(JSON_REQUEST).subarray(0, 20), statuses: [400] },
  { name: 'a deflate stream cut in half', encoding: 'deflate', body: () => deflateSync(JSON_REQUEST).subarray(0, 12), statuses: [400] },
  { name: 'a corrupt gzip stream (bad data and CRC)', encoding: 'gzip', body: () => corrupt(gzipSync(JSON_REQUEST)), statuses: [400] },
  { name: 'random bytes labelled gzip', encoding: 'gzip', body: () => randomBytes(200), statuses: [400] },
  { name: 'random bytes labelled deflate', encoding: 'deflate', body: () => randomBytes(200), statuses: [400] },
  { name: 'an empty body labelled gzip', encoding: 'gzip', body: () => Buffer.alloc(0), statuses: [400] },
  { name: 'raw deflate (no zlib header) labelled deflate', encoding: 'deflate', body: () => deflateRawSync(JSON_REQUEST), statuses: [200, 400] },
  { name: 'gzip with garbage after the stream', encoding: 'gzip', body: () => Buffer.concat([gzipSync(JSON_REQUEST), randomBytes(64)]), statuses: [200, 400] },
  { name: 'gzip of random bytes', encoding: 'gzip', body: () => gzipSync(randomBytes(300)), statuses: [400] },
  { name: 'a gzip bomb (inflates past the 64 MiB body limit)', encoding: 'gzip', body: () => gzipSync(Buffer.alloc(65 * 1024 * 1024, 0x20)), statuses: [413], names: /maxBodyBytes/ },
  { name: 'brotli (not supported)', encoding: 'br', body: () => randomBytes(50), statuses: [415] },
  { name: 'a list of encodings', encoding: 'gzip, deflate', body: () => gzipSync(deflateSync(JSON_REQUEST)), statuses: [200, 400, 415] },
  { name: 'an unknown encoding', encoding: 'compress', body: () => JSON_REQUEST, statuses: [415] },
];

describe('hostile input: no request ends the process (real process)', () => {
  describe.each(ENCODING_CASES)('Content-Encoding: $name', (c) => {
    it('is refused with {"error"} on every body route, Content-Length and chunked, and the process stays up', async () => {
      const problems: string[] = [];
      const body = c.body();
      for (const route of BODY_ROUTES) {
        for (const framing of ['length', 'chunked'] as const) {
          const f = framed(body, framing);
          const answer = await rawRequest(
            cli.port,
            httpBytes('POST', route.path, { 'Content-Type': 'application/json', 'Content-Encoding': c.encoding, ...f.headers }, f.body),
          );
          const label = `${route.path} (${framing})`;
          const statuses = route.only === true ? route.statuses : [...new Set([...c.statuses, ...route.statuses])];
          // The refusal names the setting where it is the case's own (a route may refuse the request earlier, for another reason).
          const names = c.statuses.includes(answer.status) ? c.names : undefined;
          const check = route.openai === true ? openAIAnswerProblem : errorAnswerProblem;
          const problem = answer.status === 200 && statuses.includes(200) ? undefined : check(label, answer, statuses, names);
          if (problem !== undefined) problems.push(problem);
          const dead = await survived(`${c.name} to ${label}`);
          if (dead !== undefined) {
            problems.push(dead);
            break;
          }
        }
        if (!isRunning(cli)) break;
      }
      expect(problems).toEqual([]);
    }, 60000);
  });

  it('lying binary framing (Inference-Header-Content-Length, binary_data_size) is a 400, plain and gzip', async () => {
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2], parameters: { binary_data_size: 8 } }] }));
    const tail = Buffer.alloc(8, 1);
    const body = Buffer.concat([header, tail]);
    const cases: { name: string; length: string; body: Buffer }[] = [
      { name: 'longer than the body', length: String(body.length + 100), body },
      { name: 'negative', length: '-1', body },
      { name: 'huge', length: String(2 ** 60), body },
      { name: 'not a number', length: 'abc', body },
      { name: 'empty', length: '', body },
      { name: 'fractional', length: '1.5', body },
      { name: 'inside the JSON', length: String(header.length - 5), body },
      { name: 'binary_data_size past the tail', length: String(header.length), body: Buffer.concat([header, tail.subarray(0, 3)]) },
      {
        name: 'binary_data_size huge',
        length: String(Buffer.byteLength(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2], parameters: { binary_data_size: 2 ** 53 } }] }))),
        body: Buffer.concat([Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2], parameters: { binary_data_size: 2 ** 53 } }] })), tail]),
      },
      {
        name: 'binary_data_size negative',
        length: String(Buffer.byteLength(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2], parameters: { binary_data_size: -8 } }] }))),
        body: Buffer.concat([Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2], parameters: { binary_data_size: -8 } }] })), tail]),
      },
      {
        name: 'BYTES element lengths past the tail',
        length: String(Buffer.byteLength(JSON.stringify({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 8 } }] }))),
        body: Buffer.concat([Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 8 } }] })), Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4])]),
      },
    ];
    const problems: string[] = [];
    for (const k of cases) {
      for (const gzip of [false, true]) {
        const payload = gzip ? gzipSync(k.body) : k.body;
        const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': k.length };
        if (gzip) headers['Content-Encoding'] = 'gzip';
        const answer = await rawRequest(cli.port, httpBytes('POST', '/v2/models/echo/infer', headers, payload));
        const problem = errorAnswerProblem(`${k.name}${gzip ? ' (gzip)' : ''}`, answer, k.name === 'binary_data_size huge' ? [400, 413] : [400]);
        if (problem !== undefined) problems.push(problem);
        const dead = await survived(`binary framing ${k.name}`);
        if (dead !== undefined) {
          problems.push(dead);
          break;
        }
      }
      if (!isRunning(cli)) break;
    }
    expect(problems).toEqual([]);
  }, 60000);

  it('HTTP framing: short bodies, broken chunks, conflicting lengths, pipelined lies', async () => {
    const json = JSON_REQUEST.toString('latin1');
    const cases: { name: string; bytes: Buffer; /** no answer at all is acceptable (the request never completed) */ silentOk: boolean }[] = [
      { name: 'Content-Length longer than the body, then EOF', bytes: httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Content-Length': '5000' }, JSON_REQUEST), silentOk: true },
      {
        name: 'gzip, Content-Length longer than the body, then EOF',
        bytes: httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': '5000' }, gzipSync(JSON_REQUEST)),
        silentOk: true,
      },
      {
        name: 'a chunked body cut in a chunk, then EOF',
        bytes: httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, `ff\r\n${json}`),
        silentOk: true,
      },
      {
        name: 'a chunk size that is not hex',
        bytes: httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, `zz\r\n${json}\r\n0\r\n\r\n`),
        silentOk: false,
      },
      {
        name: 'a huge chunk size, then EOF',
        bytes: httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, `ffffffffffffffff\r\n${json}\r\n0\r\n\r\n`),
        silentOk: true,
      },
      {
        name: 'Content-Length and Transfer-Encoding together',
        bytes: httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Content-Length': String(JSON_REQUEST.length), 'Transfer-Encoding': 'chunked' }, JSON_REQUEST),
        silentOk: false,
      },
      {
        name: 'two Content-Length headers that disagree',
        bytes: Buffer.from(`POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 3\r\nContent-Length: ${JSON_REQUEST.length}\r\n\r\n${json}`, 'latin1'),
        silentOk: false,
      },
      { name: 'a negative Content-Length', bytes: httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Content-Length': '-5' }, JSON_REQUEST), silentOk: false },
      {
        name: 'a Content-Length shorter than the body (the rest read as a second request)',
        bytes: httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Content-Length': '10', Connection: 'keep-alive' }, JSON_REQUEST),
        silentOk: false,
      },
      {
        name: 'chunked gzip with a truncated stream',
        bytes: httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' }, framed(gzipSync(JSON_REQUEST).subarray(0, 15), 'chunked').body),
        silentOk: false,
      },
    ];
    const problems: string[] = [];
    for (const k of cases) {
      const answer: RawAnswer = await rawRequest(cli.port, k.bytes, { timeoutMs: 8000, halfClose: k.silentOk });
      if (answer.end === 'timeout') problems.push(`${k.name}: no answer and the connection still open after 8 s`);
      else if (!(k.silentOk && answer.status === 0)) {
        const problem = errorAnswerProblem(k.name, answer, [400, 408, 413]);
        if (problem !== undefined) problems.push(problem);
      }
      const dead = await survived(k.name);
      if (dead !== undefined) {
        problems.push(dead);
        break;
      }
    }
    expect(problems).toEqual([]);
  }, 90000);

  it('clients that vanish mid-body, mid-model and mid-answer leave the process serving', async () => {
    const problems: string[] = [];
    const abandon = (bytes: Buffer, afterMs: number) =>
      new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: cli.port }, () => {
          s.write(bytes);
          setTimeout(() => {
            s.destroy();
            resolve();
          }, afterMs);
        });
        s.on('data', () => undefined);
        s.on('error', () => resolve());
      });
    const big = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1000000], data: new Array(1000000).fill(1.5) }] }));
    const cases: [string, () => Promise<void>][] = [
      ['half a JSON body (fast path)', () => abandon(httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json' }, big).subarray(0, 200000), 50)],
      ['half a gzip body', () => abandon(httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, gzipSync(big)).subarray(0, 3000), 50)],
      ['half a chunked body', () => abandon(httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, framed(big, 'chunked').body).subarray(0, 200000), 50)],
      ['half a SageMaker CSV body', () => abandon(httpBytes('POST', '/invocations', { 'Content-Type': 'text/csv' }, Buffer.from('1,2,3\n'.repeat(100000))).subarray(0, 100000), 50)],
      [
        'a request whose model is still running',
        () => abandon(httpBytes('POST', '/v2/models/slow/infer', { 'Content-Type': 'application/json' }, JSON.stringify({ parameters: { delay_ms: 300 }, inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] })), 100),
      ],
      ['an 8 MB answer, read for 5 ms', () => abandon(httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json' }, big), 5)],
    ];
    for (const [name, run] of cases) {
      await run();
      await new Promise((r) => setTimeout(r, 400)); // the slow model finishes for nobody
      const dead = await survived(name);
      if (dead !== undefined) {
        problems.push(dead);
        break;
      }
    }
    expect(problems).toEqual([]);
  }, 60000);

  describe('gRPC', () => {
    let client: RawGrpcClient;
    beforeEach(() => (client = new RawGrpcClient(cli.grpcPort)));
    afterEach(() => client.close());

    const valid = () => inferRequest({ model: 'echo', inputs: [{ name: 'x', datatype: 'INT32', shape: [2] }], raw: [Buffer.from([1, 0, 0, 0, 2, 0, 0, 0])] });

    it('broken ModelInfer messages are refused with a status (never OK, never a crash)', async () => {
      const cases: [string, Buffer, number[]][] = [
        ['random bytes', randomBytes(300), [GRPC.INVALID_ARGUMENT, GRPC.INTERNAL]],
        ['a valid message cut short', valid().subarray(0, valid().length - 5), [GRPC.INVALID_ARGUMENT, GRPC.INTERNAL]],
        ['inputs (field 5) as a varint', Buffer.concat([lengthField(1, 'echo'), varintField(5, 7)]), [GRPC.INVALID_ARGUMENT, GRPC.INTERNAL]],
        ['a length prefix past the end', Buffer.concat([lengthField(1, 'echo'), Buffer.from([0x2a, 0xff, 0xff, 0xff, 0x0f, 1, 2])]), [GRPC.INVALID_ARGUMENT, GRPC.INTERNAL]],
        ['more raw contents than inputs', inferRequest({ model: 'echo', inputs: [{ name: 'x', datatype: 'INT32', shape: [1] }], raw: [Buffer.alloc(4), Buffer.alloc(4)] }), [GRPC.INVALID_ARGUMENT]],
        ['raw contents of the wrong size', inferRequest({ model: 'echo', inputs: [{ name: 'x', datatype: 'INT32', shape: [2] }], raw: [Buffer.alloc(5)] }), [GRPC.INVALID_ARGUMENT]],
        [
          'BYTES raw contents whose length prefix runs past the end',
          inferRequest({ model: 'echo', inputs: [{ name: 'x', datatype: 'BYTES', shape: [1] }], raw: [Buffer.from([0xff, 0xff, 0xff, 0x7f, 1])] }),
          [GRPC.INVALID_ARGUMENT],
        ],
        ['a negative shape (as a 10-byte varint)', Buffer.concat([lengthField(1, 'echo'), lengthField(5, Buffer.concat([lengthField(1, 'x'), lengthField(2, 'INT32'), lengthField(3, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))]))]), [GRPC.INVALID_ARGUMENT]],
        ['an unknown datatype', inferRequest({ model: 'echo', inputs: [{ name: 'x', datatype: 'FLOAT128', shape: [1] }], raw: [Buffer.alloc(16)] }), [GRPC.INVALID_ARGUMENT]],
      ];
      const problems: string[] = [];
      for (const [name, message, codes] of cases) {
        const answer = await client.call('ModelInfer', message, {}, 10000);
        if (!codes.includes(answer.code)) problems.push(`${name}: status ${answer.code} (wanted ${codes.join(' or ')}) ${answer.details.slice(0, 200)}`);
        const dead = await survived(`gRPC ${name}`);
        if (dead !== undefined) {
          problems.push(dead);
          break;
        }
      }
      expect(problems).toEqual([]);
    }, 60000);

    it('broken compression and lying length prefixes on the wire are refused with a status', async () => {
      const message = valid();
      const bomb = gzipSync(Buffer.concat([message, lengthField(15, Buffer.alloc(70 * 1024 * 1024))]));
      const cases: [string, Buffer, Record<string, string>, number[]][] = [
        ['a corrupt gzip message', grpcFrame(corrupt(gzipSync(message)), true), { 'grpc-encoding': 'gzip' }, [GRPC.INTERNAL, GRPC.INVALID_ARGUMENT]],
        ['a truncated gzip message', grpcFrame(gzipSync(message).subarray(0, 12), true), { 'grpc-encoding': 'gzip' }, [GRPC.INTERNAL, GRPC.INVALID_ARGUMENT]],
        ['a truncated deflate message', grpcFrame(deflateSync(message).subarray(0, 8), true), { 'grpc-encoding': 'deflate' }, [GRPC.INTERNAL, GRPC.INVALID_ARGUMENT]],
        ['the compressed flag without grpc-encoding', grpcFrame(gzipSync(message), true), {}, [GRPC.INTERNAL, GRPC.UNIMPLEMENTED, GRPC.INVALID_ARGUMENT]],
        ['an unknown grpc-encoding', grpcFrame(randomBytes(40), true), { 'grpc-encoding': 'br' }, [GRPC.UNIMPLEMENTED, GRPC.INTERNAL]],
        ['a gzip bomb (inflates past 64 MiB)', grpcFrame(bomb, true), { 'grpc-encoding': 'gzip' }, [GRPC.RESOURCE_EXHAUSTED]],
        // grpc-js itself answers UNIMPLEMENTED ("Received no request message") to a unary call whose message never completes.
        ['a length prefix longer than the message, then end of stream', grpcFrame(message, false, message.length + 1000), {}, [GRPC.INTERNAL, GRPC.INVALID_ARGUMENT, GRPC.CANCELLED, GRPC.UNAVAILABLE, GRPC.UNIMPLEMENTED]],
        ['a length prefix of 4 GiB', grpcFrame(message, false, 0xffffffff), {}, [GRPC.RESOURCE_EXHAUSTED]],
        ['two messages on a unary call', Buffer.concat([grpcFrame(message), grpcFrame(message)]), {}, [GRPC.INTERNAL, GRPC.UNIMPLEMENTED, GRPC.INVALID_ARGUMENT]],
        ['no message at all', Buffer.alloc(0), {}, [GRPC.INTERNAL, GRPC.UNIMPLEMENTED, GRPC.INVALID_ARGUMENT]],
        ['half a length prefix', Buffer.from([0, 0, 0]), {}, [GRPC.INTERNAL, GRPC.INVALID_ARGUMENT, GRPC.CANCELLED, GRPC.UNAVAILABLE, GRPC.UNIMPLEMENTED]],
      ];
      const problems: string[] = [];
      for (const [name, body, headers, codes] of cases) {
        const answer = await grpcOverHttp2(cli.grpcPort, 'ModelInfer', body, headers);
        if (answer.grpcStatus === undefined || !codes.includes(answer.grpcStatus)) {
          problems.push(`${name}: grpc-status ${answer.grpcStatus} (wanted ${codes.join(' or ')}) ${answer.message.slice(0, 200)} ${answer.error ?? ''}`);
        }
        const dead = await survived(`gRPC ${name}`);
        if (dead !== undefined) {
          problems.push(dead);
          break;
        }
      }
      expect(problems).toEqual([]);
    }, 60000);

    it('a stream of broken messages and a stream cut mid-way leave the process serving', async () => {
      const problems: string[] = [];
      const frames = Buffer.concat([grpcFrame(valid()), grpcFrame(randomBytes(100)), grpcFrame(gzipSync(valid()).subarray(0, 9), true), grpcFrame(valid(), false, 1 << 30)]);
      const answer = await grpcOverHttp2(cli.grpcPort, 'ModelStreamInfer', frames, { 'grpc-encoding': 'gzip' });
      if (answer.grpcStatus === GRPC.OK) problems.push(`a stream with broken messages ended OK`);
      let dead = await survived('a stream of broken messages');
      if (dead !== undefined) problems.push(dead);
      if (isRunning(cli)) {
        const slow = inferRequest({ model: 'slow', parameters: [], inputs: [{ name: 'x', datatype: 'INT32', shape: [1] }], raw: [Buffer.alloc(4)] });
        await grpcOverHttp2(cli.grpcPort, 'ModelStreamInfer', Buffer.concat([grpcFrame(slow), grpcFrame(slow)]).subarray(0, 30), {}, 300);
        await grpcOverHttp2(cli.grpcPort, 'ModelInfer', grpcFrame(slow).subarray(0, 10), {}, 100);
        dead = await survived('streams and calls cut mid-message');
        if (dead !== undefined) problems.push(dead);
      }
      expect(problems).toEqual([]);
    }, 60000);
  });
});
