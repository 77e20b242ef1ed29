import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { httpBytes, LOOP_MONITOR_FLAGS, rawRequest, send, ServerUnderTest, sharedServer, startCli, type FullHttpAnswer } from './helpers/cli-process';
import { errorAnswerProblem, GRPC, inferRequest, lengthField, npy, npyHeader, parameterEntry, RawGrpcClient, type RawGrpcAnswer } from './fixtures/hostile-requests';

/**
 * Issue 13, the request limits: every limit refuses what exceeds it, on every codec and on REST and gRPC, with a
 * 4xx / 503 `{"error"}` (gRPC: the matching status) that names its setting. The first server sets every limit low
 * (test/fixtures/hostile-tight.yaml, the body limit from MAX_BODY_BYTES); the second runs the defaults, where a
 * request with 64k inputs is refused at once.
 */

const TIGHT = join(__dirname, 'fixtures', 'hostile-tight.yaml');
const DEFAULTS = join(__dirname, 'fixtures', 'hostile-server.yaml');
const FOUR_MIB = 4 * 1024 * 1024;

/** What is wrong with a gRPC refusal, or undefined: the status, and details naming the setting. */
function grpcProblem(label: string, a: RawGrpcAnswer, codes: number[], names: RegExp): string | undefined {
  if (!codes.includes(a.code)) return `${label}: gRPC status ${a.code} (wanted ${codes.join(' or ')}): ${a.details.slice(0, 200)}`;
  if (!names.test(a.details)) return `${label}: details do not match ${names}: ${a.details.slice(0, 200)}`;
  if (a.details.length > 1024) return `${label}: details of ${a.details.length} characters`;
  return undefined;
}

const tensor = (name: string, extra: Record<string, unknown> = {}) => ({ name, datatype: 'INT32', shape: [1], data: [1], ...extra });
const many = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const params = (n: number) => Object.fromEntries(many(n, 'p').map((k) => [k, 1]));
const JSON_TYPE = { 'content-type': 'application/json' };

describe('hostile input: every limit refuses with its setting named (real process, limits set low)', () => {
  const server = new ServerUnderTest(() => startCli(['--config', TIGHT], { LOG_LEVEL: 'warn', MAX_BODY_BYTES: String(FOUR_MIB), GRPC_MAX_MESSAGE_BYTES: String(FOUR_MIB) }));
  const suite = sharedServer(server, (port) => new RawGrpcClient(port));
  const post = (path: string, body: string | Buffer, headers: Record<string, string> = JSON_TYPE): Promise<FullHttpAnswer> => send(server.cli.port, path, { body, headers });

  it('maxBodyBytes (MAX_BODY_BYTES): 413, whether the body is sent with a length, chunked or gzip; gRPC messages past GRPC_MAX_MESSAGE_BYTES: RESOURCE_EXHAUSTED', async () => {
    const big = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT8', shape: [2500000], data: new Array(2500000).fill(1) }] }));
    const problems = [
      errorAnswerProblem('Content-Length', await post('/v2/models/echo/infer', big), [413], /maxBodyBytes/),
      errorAnswerProblem('SageMaker CSV', await post('/invocations', Buffer.alloc(5 * 1024 * 1024, '1,'), { 'content-type': 'text/csv' }), [413], /maxBodyBytes/),
      errorAnswerProblem('gzip inflating past the limit', await post('/v2/models/echo/infer', gzipSync(big), { ...JSON_TYPE, 'content-encoding': 'gzip' }), [413], /maxBodyBytes/),
    ];
    const chunked = Buffer.concat([Buffer.from(`${big.length.toString(16)}\r\n`), big, Buffer.from('\r\n0\r\n\r\n')]);
    const answer = await rawRequest(server.cli.port, httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', Connection: 'keep-alive' }, chunked));
    problems.push(errorAnswerProblem('chunked', answer, [413], /maxBodyBytes/));
    const message = inferRequest({ model: 'echo', inputs: [{ name: 'x', datatype: 'INT8', shape: [5 * 1024 * 1024] }], raw: [Buffer.alloc(5 * 1024 * 1024)] });
    const g = await suite.grpc.call('ModelInfer', message);
    if (g.code !== GRPC.RESOURCE_EXHAUSTED) problems.push(`gRPC over GRPC_MAX_MESSAGE_BYTES: status ${g.code} ${g.details.slice(0, 200)}`);
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });

  it('maxInputs: 9 inputs where 8 are allowed, JSON, binary and gRPC', async () => {
    const header = Buffer.from(JSON.stringify({ inputs: many(9, 'x').map((name) => ({ name, datatype: 'INT32', shape: [1], parameters: { binary_data_size: 4 } })) }));
    const problems = [
      errorAnswerProblem('JSON', await post('/v2/models/echo/infer', JSON.stringify({ inputs: many(9, 'x').map((n) => tensor(n)) })), [400], /maxInputs/),
      errorAnswerProblem(
        'binary',
        await post('/v2/models/echo/infer', Buffer.concat([header, Buffer.alloc(36)]), { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) }),
        [400],
        /maxInputs/,
      ),
      grpcProblem(
        'gRPC',
        await suite.grpc.call('ModelInfer', inferRequest({ model: 'echo', inputs: many(9, 'x').map((name) => ({ name, datatype: 'INT32', shape: [1] })), raw: many(9, '').map(() => Buffer.alloc(4)) })),
        [GRPC.INVALID_ARGUMENT],
        /maxInputs/,
      ),
    ];
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });

  it('maxOutputs: 9 requested outputs where 8 are allowed, JSON and gRPC', async () => {
    const problems = [
      errorAnswerProblem('JSON', await post('/v2/models/echo/infer', JSON.stringify({ inputs: [tensor('x')], outputs: many(9, 'y').map((name) => ({ name })) })), [400], /maxOutputs/),
      grpcProblem(
        'gRPC',
        await suite.grpc.call('ModelInfer', inferRequest({ model: 'echo', inputs: [{ name: 'x', datatype: 'INT32', shape: [1] }], raw: [Buffer.alloc(4)], outputs: many(9, 'y') })),
        [GRPC.INVALID_ARGUMENT],
        /maxOutputs/,
      ),
    ];
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });

  it('maxParameters: 5 entries where 4 are allowed, in the request, an input or a requested output, JSON and gRPC', async () => {
    const problems = [
      errorAnswerProblem('request parameters', await post('/v2/models/echo/infer', JSON.stringify({ parameters: params(5), inputs: [tensor('x')] })), [400], /maxParameters/),
      errorAnswerProblem('input parameters', await post('/v2/models/echo/infer', JSON.stringify({ inputs: [tensor('x', { parameters: params(5) })] })), [400], /maxParameters/),
      errorAnswerProblem('output parameters', await post('/v2/models/echo/infer', JSON.stringify({ inputs: [tensor('x')], outputs: [{ name: 'x', parameters: params(5) }] })), [400], /maxParameters/),
      grpcProblem(
        'gRPC request parameters',
        await suite.grpc.call('ModelInfer', inferRequest({ model: 'echo', parameters: many(5, 'p').map((k) => parameterEntry(k, 'v')), inputs: [{ name: 'x', datatype: 'INT32', shape: [1] }], raw: [Buffer.alloc(4)] })),
        [GRPC.INVALID_ARGUMENT],
        /maxParameters/,
      ),
    ];
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });

  it('maxTensorBytes (1 MiB here): 413 on every codec, and RESOURCE_EXHAUSTED on gRPC', async () => {
    const n = 300000; // 1.2 MB as FP32
    const zeros = `[${new Array(n).fill(0).join(',')}]`;
    const binaryHeader = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [n], parameters: { binary_data_size: 4 * n } }] }));
    const problems = [
      errorAnswerProblem('JSON FP32', await post('/v2/models/count/infer', `{"inputs":[{"name":"x","datatype":"FP32","shape":[${n}],"data":${zeros}}]}`), [413], /maxTensorBytes/),
      errorAnswerProblem(
        'JSON BYTES',
        await post('/v2/models/count/infer', JSON.stringify({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [n], data: new Array(n).fill('ab') }] })),
        [413],
        /maxTensorBytes/,
      ),
      errorAnswerProblem(
        'two tensors that fit alone but not together',
        await post('/v2/models/count/infer', JSON.stringify({ inputs: ['a', 'b'].map((name) => ({ name, datatype: 'FP32', shape: [n / 2], data: new Array(n / 2).fill(0) })) })),
        [413],
        /maxTensorBytes/,
      ),
      errorAnswerProblem(
        'binary FP32',
        await post('/v2/models/count/infer', Buffer.concat([binaryHeader, Buffer.alloc(4 * n)]), { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(binaryHeader.length) }),
        [413],
        /maxTensorBytes/,
      ),
      errorAnswerProblem('SageMaker CSV', await post('/invocations', `${new Array(n).fill(0).join(',')}\n`, { 'content-type': 'text/csv' }), [413], /maxTensorBytes/),
      errorAnswerProblem('SageMaker NPY', await post('/invocations', npy(npyHeader('<f4', [1, n]), Buffer.alloc(4 * n)), { 'content-type': 'application/x-npy' }), [413], /maxTensorBytes/),
      errorAnswerProblem('SageMaker NPY |S1 to FP32 (refused before any size counts)', await post('/invocations', npy(npyHeader('|S1', [1, n]), Buffer.alloc(n, '1')), { 'content-type': 'application/x-npy' }), [400], /dtype 'S1'/),
      errorAnswerProblem('SageMaker JSON rows', await post('/invocations', `[${zeros}]`), [413], /maxTensorBytes/),
      errorAnswerProblem(
        'a shape that claims more than the data holds',
        await post('/v2/models/count/infer', JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [n], data: [1] }] })),
        [400, 413],
      ),
      grpcProblem(
        'gRPC raw FP32',
        await suite.grpc.call('ModelInfer', inferRequest({ model: 'count', inputs: [{ name: 'x', datatype: 'FP32', shape: [n] }], raw: [Buffer.alloc(4 * n)] })),
        [GRPC.RESOURCE_EXHAUSTED],
        /maxTensorBytes/,
      ),
      grpcProblem(
        'gRPC fp32_contents',
        await suite.grpc.call('ModelInfer', inferRequest({ model: 'count', inputs: [{ name: 'x', datatype: 'FP32', shape: [n], contents: lengthField(6, Buffer.alloc(4 * n)) }] })),
        [GRPC.RESOURCE_EXHAUSTED],
        /maxTensorBytes/,
      ),
    ];
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });

  it('maxRequestBytesInFlight (256 KiB here): past it a 503 with Retry-After (gRPC UNAVAILABLE); the same request once the server is free: 200', async () => {
    const held = JSON.stringify({ parameters: { delay_ms: 1500 }, inputs: [{ name: 'x', datatype: 'INT8', shape: [100000], data: new Array(100000).fill(1) }] }); // ~200 KB
    const second = JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT8', shape: [50000], data: new Array(50000).fill(1) }] }); // ~100 KB
    const first = post('/v2/models/slow/infer', held);
    await new Promise((r) => setTimeout(r, 500));
    const refused = await post('/v2/models/echo/infer', second);
    const grpcRefused = await suite.grpc.call('ModelInfer', inferRequest({ model: 'echo', inputs: [{ name: 'x', datatype: 'INT8', shape: [100000] }], raw: [Buffer.alloc(100000)] }));
    const problems = [
      errorAnswerProblem('REST', refused, [503], /maxRequestBytesInFlight/),
      refused.status === 503 && refused.headers['retry-after'] === undefined ? 'REST: a 503 without Retry-After' : undefined,
      grpcProblem('gRPC', grpcRefused, [GRPC.UNAVAILABLE], /maxRequestBytesInFlight/),
    ];
    const held200 = await first;
    if (held200.status !== 200) problems.push(`the request holding the budget: ${held200.status} ${held200.body.slice(0, 200)}`);
    const retried = await post('/v2/models/echo/infer', second);
    if (retried.status !== 200) problems.push(`the refused request, retried once the server is free: ${retried.status} ${retried.body.slice(0, 200)}`);
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  }, 30000);
});

describe('hostile input: the default limits (real process)', () => {
  const server = new ServerUnderTest(() => startCli(['--config', DEFAULTS], { LOG_LEVEL: 'warn' }, 30000, { nodeFlags: LOOP_MONITOR_FLAGS }));
  const suite = sharedServer(server, (port) => new RawGrpcClient(port));
  const post = (body: string): Promise<FullHttpAnswer> => send(server.cli.port, '/v2/models/echo/infer', { body, headers: JSON_TYPE });

  it('1025 inputs, 1025 requested outputs, 257 parameters: 400 naming maxInputs, maxOutputs, maxParameters', async () => {
    const problems = [
      errorAnswerProblem('1025 inputs', await post(JSON.stringify({ inputs: many(1025, 'x').map((n) => tensor(n)) })), [400], /maxInputs/),
      await post(JSON.stringify({ inputs: many(1024, 'x').map((n) => tensor(n)) })).then((a) => (a.status === 200 ? undefined : `1024 inputs (the default limit): ${a.status} ${a.body.slice(0, 200)}`)),
      errorAnswerProblem('1025 requested outputs', await post(JSON.stringify({ inputs: [tensor('x')], outputs: many(1025, 'y').map((name) => ({ name })) })), [400], /maxOutputs/),
      errorAnswerProblem('257 parameters', await post(JSON.stringify({ parameters: params(257), inputs: [tensor('x')] })), [400], /maxParameters/),
    ];
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });

  it('64k inputs (JSON and gRPC) and 64k requested outputs are refused within a couple of seconds', async () => {
    const n = 65536;
    const problems: (string | undefined)[] = [];
    const json = JSON.stringify({ inputs: many(n, 'x').map((name) => tensor(name)) });
    const seenJson = await server.observe(() => post(json), { giveUpMs: 10000 });
    problems.push(errorAnswerProblem('JSON 64k inputs', seenJson.value, [400], /maxInputs/));
    const outputs = JSON.stringify({ inputs: [tensor('x')], outputs: many(n, 'y').map((name) => ({ name })) });
    const seenOutputs = await server.observe(() => post(outputs), { giveUpMs: 10000 });
    problems.push(errorAnswerProblem('JSON 64k requested outputs', seenOutputs.value, [400], /maxOutputs/));
    const message = inferRequest({ model: 'echo', inputs: many(n, 'x').map((name) => ({ name, datatype: 'INT32', shape: [1] })), raw: many(n, '').map(() => Buffer.alloc(4)) });
    const seenGrpc = await server.observe(() => suite.grpc.call('ModelInfer', message, {}, 10000), { giveUpMs: 10000 });
    problems.push(grpcProblem('gRPC 64k inputs', seenGrpc.value, [GRPC.INVALID_ARGUMENT], /maxInputs/));
    for (const [what, seen] of [['JSON inputs', seenJson], ['JSON outputs', seenOutputs], ['gRPC inputs', seenGrpc]] as const) {
          console.log(`default limits, 64k ${what}: answered in ${seen.ms} ms, longest loop block ${seen.serverBlockMs} ms (probe gap ${seen.maxGapMs} ms)`);
      if (seen.ms >= 2000) problems.push(`64k ${what}: answered in ${seen.ms} ms (bound 2000 ms)`);
      if (seen.serverBlockMs >= 1000) problems.push(`64k ${what}: the event loop was blocked for ${seen.serverBlockMs} ms (bound 1000 ms)`);
      if (seen.afterwards !== undefined) problems.push(`64k ${what}: ${seen.afterwards}`);
    }
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  }, 60000);
});
