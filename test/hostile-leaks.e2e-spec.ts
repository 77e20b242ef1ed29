import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { httpBytes, rawRequest, send, ServerUnderTest, sharedServer, startCli, type FullHttpAnswer } from './helpers/cli-process';
import { errorAnswerProblem, GRPC, inferRequest, oneByteStrings, RawGrpcClient } from './fixtures/hostile-requests';

/**
 * Issue 13, class "leaks and wrong statuses": client text is clipped in every error answer and log line (a 4 MiB
 * input name gives a small error body and a short log line), values JSON cannot hold (1e999) and impossible
 * shapes (BYTES [2^32]) are 400s rather than 500s, and Node's own refusals (431 headers too large, malformed
 * HTTP) come back as `{"error"}` bodies like every other refusal.
 */

const CONFIG = join(__dirname, 'fixtures', 'hostile-server.yaml');
/** The largest error answer that quotes client text (clipped to a few hundred characters). */
const MAX_ERROR_BYTES = 1024;
/** The longest log line the server may write about one hostile request. */
const MAX_LOG_LINE = 4096;

const server = new ServerUnderTest(() => startCli(['--config', CONFIG], { LOG_LEVEL: 'info', LOG_FORMAT: 'json' }));
const suite = sharedServer(server, (port) => new RawGrpcClient(port));

const JSON_TYPE = { 'content-type': 'application/json' };
const HUGE = 'n'.repeat(4 * 1024 * 1024);

/** A refusal of `statuses` whose body stays under {@link MAX_ERROR_BYTES}. */
function smallRefusal(label: string, a: { status: number; body: string }, statuses: number[]): string | undefined {
  return errorAnswerProblem(label, a, statuses) ?? (a.body.length > MAX_ERROR_BYTES ? `${label}: an error body of ${a.body.length} bytes (bound ${MAX_ERROR_BYTES})` : undefined);
}

/** The longest line the server wrote since `from` (an offset in its output). */
function longestLogLine(from: number): number {
  return Math.max(0, ...server.cli.output().slice(from).split('\n').map((l) => l.length));
}

describe('hostile input: client text is clipped in answers and logs (real process)', () => {
  it('a 4 MiB input name: a small 400 on REST (plain and gzip) and gRPC, and short log lines', async () => {
    const logFrom = server.cli.output().length;
    const port = server.cli.port;
    const body = JSON.stringify({ inputs: [{ name: HUGE, datatype: 'FP32', shape: [2], data: [1] }] });
    const problems = [
      smallRefusal('REST, shape and data disagree', await send(port, '/v2/models/count/infer', { body, headers: JSON_TYPE }), [400]),
      smallRefusal('REST gzip', await send(port, '/v2/models/count/infer', { body: gzipSync(body), headers: { ...JSON_TYPE, 'content-encoding': 'gzip' } }), [400]),
      smallRefusal(
        'REST, an unknown datatype',
        await send(port, '/v2/models/count/infer', { body: JSON.stringify({ inputs: [{ name: 'x', datatype: HUGE, shape: [1], data: [1] }] }), headers: JSON_TYPE }),
        [400],
      ),
      smallRefusal(
        'REST, a requested output that does not exist',
        await send(port, '/v2/models/count/infer', { body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }], outputs: [{ name: HUGE }] }), headers: JSON_TYPE }),
        [400],
      ),
      smallRefusal(
        'SageMaker, a target model that does not exist (8 KB header)',
        await send(port, '/invocations', { body: '1,2\n', headers: { 'content-type': 'text/csv', 'x-amzn-sagemaker-target-model': 'm'.repeat(8000) } }),
        [400, 404],
      ),
      smallRefusal('REST, a model that does not exist (10 KB path)', await send(port, `/v2/models/${'m'.repeat(10000)}/infer`, { body: '{}', headers: JSON_TYPE }), [400, 404, 414]),
    ];
    const inGrpc = await suite.grpc.call('ModelInfer', inferRequest({ model: 'count', inputs: [{ name: HUGE, datatype: 'FP32', shape: [2] }], raw: [Buffer.alloc(4)] }));
    if (inGrpc.code !== GRPC.INVALID_ARGUMENT || inGrpc.details.length > MAX_ERROR_BYTES) problems.push(`gRPC input name: status ${inGrpc.code}, details of ${inGrpc.details.length} characters`);
    const modelGrpc = await suite.grpc.call('ModelInfer', inferRequest({ model: HUGE, inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], raw: [Buffer.alloc(4)] }));
    if (modelGrpc.code !== GRPC.NOT_FOUND || modelGrpc.details.length > MAX_ERROR_BYTES) problems.push(`gRPC model name: status ${modelGrpc.code}, details of ${modelGrpc.details.length} characters`);
    await new Promise((r) => setTimeout(r, 300)); // log lines are written asynchronously
    const longest = longestLogLine(logFrom);
    if (longest > MAX_LOG_LINE) problems.push(`a log line of ${longest} characters (bound ${MAX_LOG_LINE}): client text is logged whole`);
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  }, 60000);
});

/**
 * Requests to paths outside the model routes with 10,000 characters of path: Nest's router (unknown routes), the
 * v2 plugin's not-found handler and Fastify's refusal of a malformed %-escape each quote the path, clipped.
 */
async function unknownPathProblems(port: number): Promise<(string | undefined)[]> {
  const long = 'a'.repeat(10000);
  const cases: [string, () => Promise<FullHttpAnswer>, number[]][] = [
    ['GET /<10,000 characters> (no route)', () => send(port, `/${long}`, { method: 'GET' }), [404]],
    ['POST /<5,000 characters>?<5,000 characters> (no route)', () => send(port, `/${'p'.repeat(5000)}?q=${'q'.repeat(5000)}`, { body: '{}', headers: JSON_TYPE }), [404]],
    ['GET /v2/<10,000 characters> (no v2 route)', () => send(port, `/v2/${long}`, { method: 'GET' }), [404]],
    ['a malformed %-escape in a 10,000-character path', () => send(port, `/v2/models/%ff${long}/ready`, { method: 'GET' }), [400]],
  ];
  const problems: (string | undefined)[] = [];
  for (const [label, run, statuses] of cases) problems.push(smallRefusal(label, await run(), statuses));
  return problems;
}

describe('hostile input: unknown paths are quoted clipped in their 404 (real process)', () => {
  it('a 10,000-character path outside the model routes: a small 404 (400 for a bad %-escape)', async () => {
    expect((await unknownPathProblems(server.cli.port)).filter((p) => p !== undefined)).toEqual([]);
  });

  describe('with the fast lane on (FAST_LANE=1)', () => {
    const fast = new ServerUnderTest(() => startCli(['--config', CONFIG], { LOG_LEVEL: 'warn', FAST_LANE: '1' }));
    beforeAll(() => fast.ensure(), 60000);
    afterAll(() => fast.stop());

    it('the same small answers', async () => {
      expect((await unknownPathProblems(fast.cli.port)).filter((p) => p !== undefined)).toEqual([]);
    });
  });
});

describe('hostile input: values and shapes that cannot be served are 400s, not 500s (real process)', () => {
  it('1e999 (and -1e999) anywhere in JSON is a 400', async () => {
    const port = server.cli.port;
    const infer = (body: string, path = '/v2/models/count/infer') => send(port, path, { body, headers: JSON_TYPE });
    const problems = [
      smallRefusal('FP64 data', await infer('{"inputs":[{"name":"x","datatype":"FP64","shape":[1],"data":[1e999]}]}'), [400]),
      smallRefusal('FP32 data', await infer('{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[-1e999]}]}'), [400]),
      smallRefusal('echoed FP64 data', await infer('{"inputs":[{"name":"x","datatype":"FP64","shape":[1],"data":[1e999]}]}', '/v2/models/echo/infer'), [400]),
      smallRefusal('request parameters', await infer('{"parameters":{"t":1e999},"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}'), [400]),
      smallRefusal('SageMaker JSON rows', await infer('[[1e999, 1]]', '/invocations'), [400]),
    ];
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });

  it('a BYTES shape of [2^32] (and other impossible shapes) is a 400 or 413 on REST and gRPC', async () => {
    const port = server.cli.port;
    const infer = (tensor: Record<string, unknown>) => send(port, '/v2/models/echo/infer', { body: JSON.stringify({ inputs: [{ name: 'x', ...tensor }] }), headers: JSON_TYPE });
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [2 ** 32], parameters: { binary_data_size: 5 } }] }));
    const problems = [
      smallRefusal('JSON BYTES [2^32]', await infer({ datatype: 'BYTES', shape: [2 ** 32], data: ['a'] }), [400, 413]),
      smallRefusal('JSON BYTES [65536, 65536]', await infer({ datatype: 'BYTES', shape: [65536, 65536], data: ['a'] }), [400, 413]),
      smallRefusal('JSON FP32 [2^53]', await infer({ datatype: 'FP32', shape: [2 ** 53], data: [1] }), [400, 413]),
      smallRefusal('JSON FP32 [2^60] (not a safe integer)', await infer({ datatype: 'FP32', shape: [2 ** 60], data: [1] }), [400, 413]),
      smallRefusal(
        'binary BYTES [2^32]',
        await send(port, '/v2/models/echo/infer', {
          body: Buffer.concat([header, Buffer.from([1, 0, 0, 0, 0x61])]),
          headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
        }),
        [400, 413],
      ),
    ];
    const g = await suite.grpc.call('ModelInfer', inferRequest({ model: 'echo', inputs: [{ name: 'x', datatype: 'BYTES', shape: [2 ** 32], contents: oneByteStrings(1) }] }));
    if (g.code !== GRPC.INVALID_ARGUMENT && g.code !== GRPC.RESOURCE_EXHAUSTED) problems.push(`gRPC BYTES [2^32]: status ${g.code} ${g.details.slice(0, 200)}`);
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });
});

describe("hostile input: Node's own refusals are {\"error\"} bodies (real process)", () => {
  it('431 for headers too large, 400 for malformed requests', async () => {
    const port = server.cli.port;
    const cases: [string, Buffer, number[]][] = [
      ['a 20 KB header', httpBytes('GET', '/v2/health/live', { 'X-Big': 'b'.repeat(20000) }), [431]],
      ['200 headers of 100 bytes', httpBytes('GET', '/v2/health/live', Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`X-H${i}`, 'h'.repeat(100)]))), [431]],
      ['a 20 KB URL', httpBytes('GET', `/v2/models/${'u'.repeat(20000)}/ready`, {}), [414, 431, 400]],
      ['a garbage request line', Buffer.from('GARBAGE\r\n\r\n'), [400]],
      ['an unknown HTTP version', Buffer.from('GET /v2/health/live HTTP/9.9\r\nHost: x\r\n\r\n'), [400, 505]],
      ['a control character in a header', Buffer.from('GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n', 'latin1'), [400]],
      ['a header without a colon', Buffer.from('GET /v2/health/live HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n'), [400]],
      ['a Content-Length that is not a number', httpBytes('POST', '/v2/models/echo/infer', { 'Content-Length': 'abc' }, '{}'), [400]],
      ['a space before the colon', Buffer.from('GET /v2/health/live HTTP/1.1\r\nHost : x\r\n\r\n'), [400]],
    ];
    const problems: string[] = [];
    for (const [name, bytes, statuses] of cases) {
      const a = await rawRequest(port, bytes, { timeoutMs: 5000 });
      const problem = a.status === 0 ? `${name}: no answer (the connection ${a.end})` : errorAnswerProblem(name, a, statuses);
      if (problem !== undefined) problems.push(problem);
    }
    expect(problems).toEqual([]);
  });
});
