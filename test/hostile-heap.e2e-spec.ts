import { join } from 'node:path';
import { LOOP_MONITOR_FLAGS, send, ServerUnderTest, startCli } from './helpers/cli-process';
import { errorAnswerProblem, GRPC, inferRequest, npy, npyHeader, oneByteStrings, RawGrpcClient, smallInt64s } from './fixtures/hostile-requests';

/**
 * Issue 13, class "heap exhaustion": a server with a 512 MiB heap (what V8 gives a ~2 GiB container) survives, and
 * stays ready, the largest request the default limits allow of each kind: 64 MiB bodies (maxBodyBytes) whose
 * tensors fit in 128 MiB (maxTensorBytes), and bodies past the tensor budget, refused before anything is
 * allocated. Each test prints the peak resident memory the request added (as a multiple of its body) and the
 * longest event-loop block the server measured itself during it (test/helpers/loop-monitor.js); the bound
 * asserted is a generous 1 s (the target is 100 ms, reported, not asserted, on this shared 2-core machine). A test that ends the process gets a fresh one
 * for the next test.
 */

const CONFIG = join(__dirname, 'fixtures', 'hostile-server.yaml');
const BODY_LIMIT = 64 * 1024 * 1024;
const TENSOR_BUDGET = 128 * 1024 * 1024;
const SLACK = 64 * 1024; // room for the JSON around the data and for the header
const LOOP_BOUND_MS = 1000;
const GIVE_UP_MS = 60000;

const server = new ServerUnderTest(() => startCli(['--config', CONFIG], { LOG_LEVEL: 'warn' }, 60000, { nodeFlags: ['--max-old-space-size=512', ...LOOP_MONITOR_FLAGS] }));
const figures: string[] = [];

beforeEach(() => server.ensure(), 90000);
afterAll(async () => {
  console.log(`small-heap server (--max-old-space-size=512), peak RSS growth per request and longest event-loop block:\n${figures.join('\n')}`);
  await server.stop();
});

/** The most elements a kind can carry: `wire` body bytes and `decoded` tensor bytes each, within both limits. */
function most(wire: number, decoded: number): number {
  return Math.min(Math.floor((BODY_LIMIT - SLACK) / wire), Math.floor((TENSOR_BUDGET - SLACK) / decoded));
}

/** `pattern` repeated to `length` bytes (a trailing separator cut off by the caller's choice of length). */
function repeated(pattern: string | Buffer, length: number): Buffer {
  return Buffer.alloc(length).fill(pattern);
}

function jsonRequest(datatype: string, shape: number[], data: Buffer, name = 'x'): Buffer {
  return Buffer.concat([Buffer.from(`{"inputs":[{"name":"${name}","datatype":"${datatype}","shape":[${shape.join(',')}],"data":[`), data, Buffer.from(']}]}')]);
}

interface Outcome {
  status: number | string;
  ok: boolean;
  body: string;
}

/** Runs one request on the server, then the problems with its answer, the process, and the event loop. */
async function measure(kind: string, bodyBytes: number, run: () => Promise<Outcome>, check: (o: Outcome) => string | undefined): Promise<string[]> {
  const seen = await server.observe(run, { giveUpMs: GIVE_UP_MS, memory: true });
  const size = `body ${(bodyBytes / 2 ** 20).toFixed(1)} MiB`;
  if (seen.peakGrowthBytes === undefined) {
    figures.push(`  ${kind.padEnd(44)} ${size}: ${seen.afterwards?.split('\n')[0]}`);
    return [`${kind}: ${seen.afterwards}`];
  }
  const growth = seen.peakGrowthBytes;
  figures.push(
    `  ${kind.padEnd(44)} ${size} → ${seen.value.status} in ${seen.ms} ms; peak RSS +${(growth / 2 ** 20).toFixed(0)} MiB ` +
      `(${(growth / bodyBytes).toFixed(1)}× the body); longest loop block ${seen.serverBlockMs} ms (probe gap ${seen.maxGapMs} ms)`,
  );
  const problems: string[] = [];
  const problem = check(seen.value);
  if (problem !== undefined) problems.push(`${kind}: ${problem}`);
  if (seen.afterwards !== undefined) problems.push(`${kind}: ${seen.afterwards}`);
  if (seen.serverBlockMs >= LOOP_BOUND_MS) problems.push(`${kind}: the event loop was blocked for ${seen.serverBlockMs} ms (bound ${LOOP_BOUND_MS} ms)`);
  return problems;
}

/** A REST request as an outcome. */
async function rest(path: string, body: Buffer, headers: Record<string, string>): Promise<Outcome> {
  const a = await send(server.cli.port, path, { body, headers: { 'content-type': 'application/json', ...headers }, timeoutMs: GIVE_UP_MS });
  return { status: a.status === 0 ? `no answer (${a.error})` : a.status, ok: a.status === 200, body: a.body };
}

/** A gRPC ModelInfer with raw message bytes (gzip-compressed on the wire when `gzip`) as an outcome. */
async function grpcInfer(message: Buffer, gzip = false): Promise<Outcome> {
  const client = new RawGrpcClient(server.cli.grpcPort, { gzip });
  try {
    const a = await client.call('ModelInfer', message, {}, GIVE_UP_MS);
    return { status: a.code === 0 ? 'OK' : `gRPC ${a.code}`, ok: a.code === 0, body: a.details };
  } finally {
    client.close();
  }
}

/** 200, else what came back. */
const answered200 = (o: Outcome) => (o.ok ? undefined : `wanted 200, got ${o.status}: ${o.body.slice(0, 300)}`);
/** A 400 saying the body holds too many JSON values. */
const refusedValues = (o: Outcome) => (typeof o.status === 'number' ? errorAnswerProblem('answer', { status: o.status, body: o.body }, [400], /JSON values outside tensor data/) : `wanted 400, got ${o.status}`);
/** A 413 naming maxTensorBytes. */
const refused413 = (o: Outcome) => (typeof o.status === 'number' ? errorAnswerProblem('answer', { status: o.status, body: o.body }, [413], /maxTensorBytes/) : `wanted 413, got ${o.status}`);

describe('hostile input: the largest requests the defaults allow, on a 512 MiB heap (real process)', () => {
  it('JSON FP32: 64 MiB of "0," (128 MiB decoded)', async () => {
    const n = most(2, 4);
    const body = jsonRequest('FP32', [n], repeated('0,', 2 * n - 1));
    expect(await measure('JSON FP32', body.length, () => rest('/v2/models/count/infer', body, {}), answered200)).toEqual([]);
  }, 120000);

  it('JSON INT32 small integers: 64 MiB of "1,"', async () => {
    const n = most(2, 4);
    const body = jsonRequest('INT32', [n], repeated('1,', 2 * n - 1));
    expect(await measure('JSON INT32 small ints', body.length, () => rest('/v2/models/count/infer', body, {}), answered200)).toEqual([]);
  }, 120000);

  it('JSON nested rows: 64 MiB of [0,0,0,0] rows', async () => {
    const rows = Math.floor(most(2.5, 4) / 4);
    const body = jsonRequest('FP32', [rows, 4], repeated('[0,0,0,0],', 10 * rows - 1));
    expect(await measure('JSON FP32 nested rows', body.length, () => rest('/v2/models/count/infer', body, {}), answered200)).toEqual([]);
  }, 120000);

  it('JSON parameters: as many empty objects as a large body may hold outside tensor data, then one more', async () => {
    for (const [objects, wanted] of [[1_000_000 - 16, answered200], [1_000_001, refusedValues]] as const) {
      const parameters = Buffer.concat([Buffer.from('{"p":['), repeated('{},', 3 * objects - 1), Buffer.from(']}')]);
      const body = Buffer.concat([Buffer.from('{"parameters":'), parameters, Buffer.from(',"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[0]}]}')]);
      expect(await measure(`JSON ${objects} empty objects in parameters`, body.length, () => rest('/v2/models/count/infer', body, {}), wanted)).toEqual([]);
    }
  }, 120000);

  it('JSON BYTES: 64 MiB of one-character strings', async () => {
    const n = most(4, 5);
    const body = jsonRequest('BYTES', [n], repeated('"a",', 4 * n - 1));
    expect(await measure('JSON BYTES', body.length, () => rest('/v2/models/count/infer', body, {}), answered200)).toEqual([]);
  }, 120000);

  it('JSON FP64 past the tensor budget (64 MiB of "0," is 256 MiB decoded): 413 before allocating', async () => {
    const n = Math.floor((BODY_LIMIT - SLACK) / 2);
    const body = jsonRequest('FP64', [n], repeated('0,', 2 * n - 1));
    expect(await measure('JSON FP64 past maxTensorBytes', body.length, () => rest('/v2/models/count/infer', body, {}), refused413)).toEqual([]);
  }, 120000);

  it('binary BYTES: a 64 MiB tail of one-byte elements', async () => {
    const n = most(5, 5);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [n], parameters: { binary_data_size: 5 * n } }] }));
    const body = Buffer.concat([header, repeated(Buffer.from([1, 0, 0, 0, 0x61]), 5 * n)]);
    const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) };
    expect(await measure('binary BYTES', body.length, () => rest('/v2/models/count/infer', body, headers), answered200)).toEqual([]);
  }, 120000);

  it('binary FP32: a 64 MiB tail', async () => {
    const n = most(4, 4);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [n], parameters: { binary_data_size: 4 * n } }] }));
    const body = Buffer.concat([header, Buffer.alloc(4 * n)]);
    const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) };
    expect(await measure('binary FP32', body.length, () => rest('/v2/models/count/infer', body, headers), answered200)).toEqual([]);
  }, 120000);

  it('gRPC bytes_contents: a 64 MiB message of one-byte elements', async () => {
    const n = most(3, 5);
    const message = inferRequest({ model: 'count', inputs: [{ name: 'x', datatype: 'BYTES', shape: [n], contents: oneByteStrings(n) }] });
    expect(await measure('gRPC bytes_contents', message.length, () => grpcInfer(message), (o) => (o.ok ? undefined : `wanted OK, got ${o.status}: ${o.body.slice(0, 300)}`))).toEqual([]);
  }, 120000);

  it('gRPC bytes_contents, gzip-compressed: a 64 MiB message inflated by the server', async () => {
    const n = most(3, 5);
    const message = inferRequest({ model: 'count', inputs: [{ name: 'x', datatype: 'BYTES', shape: [n], contents: oneByteStrings(n) }] });
    expect(await measure('gRPC bytes_contents, gzip', message.length, () => grpcInfer(message, true), (o) => (o.ok ? undefined : `wanted OK, got ${o.status}: ${o.body.slice(0, 300)}`))).toEqual([]);
  }, 120000);

  it('gRPC int64_contents: 16M small values (128 MiB decoded, the budget)', async () => {
    const n = most(1, 8);
    const message = inferRequest({ model: 'count', inputs: [{ name: 'x', datatype: 'INT64', shape: [n], contents: smallInt64s(n) }] });
    expect(await measure('gRPC int64_contents at the budget', message.length, () => grpcInfer(message), (o) => (o.ok ? undefined : `wanted OK, got ${o.status}: ${o.body.slice(0, 300)}`))).toEqual([]);
  }, 120000);

  it('gRPC int64_contents past the budget: a 64 MiB message of small values (512 MiB decoded) is RESOURCE_EXHAUSTED', async () => {
    const n = BODY_LIMIT - SLACK;
    const message = inferRequest({ model: 'count', inputs: [{ name: 'x', datatype: 'INT64', shape: [n], contents: smallInt64s(n) }] });
    const check = (o: Outcome) => (o.status === `gRPC ${GRPC.RESOURCE_EXHAUSTED}` && /maxTensorBytes/.test(o.body) ? undefined : `wanted RESOURCE_EXHAUSTED naming maxTensorBytes, got ${o.status}: ${o.body.slice(0, 300)}`);
    expect(await measure('gRPC int64_contents past maxTensorBytes', message.length, () => grpcInfer(message), check)).toEqual([]);
  }, 120000);

  it('SageMaker CSV: one row of 32M columns', async () => {
    const n = most(2, 4);
    const body = Buffer.concat([repeated('0,', 2 * n - 1), Buffer.from('\n')]);
    expect(await measure('SageMaker CSV, millions of columns', body.length, () => rest('/invocations', body, { 'content-type': 'text/csv' }), answered200)).toEqual([]);
  }, 120000);

  it('SageMaker NPY: |S1 digits to an FP32 model (refused at once with a 400: bytes are not numbers)', async () => {
    const n = most(1, 4);
    const body = npy(npyHeader('|S1', [1, n]), repeated('1', n));
    const check = (o: Outcome) => (typeof o.status === 'number' ? errorAnswerProblem('answer', { status: o.status, body: o.body }, [400], /dtype 'S1'/) : `wanted 400, got ${o.status}`);
    expect(await measure('SageMaker NPY |S1 → FP32', body.length, () => rest('/invocations', body, { 'content-type': 'application/x-npy' }), check)).toEqual([]);
  }, 120000);

  it('SageMaker JSON rows: {"instances": [[0,0,0,0], ...]}', async () => {
    const rows = Math.floor(most(2.5, 4) / 4);
    const body = Buffer.concat([Buffer.from('{"instances":['), repeated('[0,0,0,0],', 10 * rows - 1), Buffer.from(']}')]);
    expect(await measure('SageMaker JSON rows', body.length, () => rest('/invocations', body, { 'content-type': 'application/json' }), answered200)).toEqual([]);
  }, 120000);
});
