import { join } from 'node:path';
import { JsonBodyScanner, V2_SPANS } from '../libs/model-server/src/codecs/json-body.scanner';
import { DEFAULT_MAX_JSON_VALUE_BYTES } from '../libs/model-server/src/codecs/json-limits';
import { LOOP_MONITOR_FLAGS, send, ServerUnderTest, startCli } from './helpers/cli-process';
import { errorAnswerProblem, GRPC, inferRequest, npy, npyHeader, oneByteStrings, openAIAnswerProblem, RawGrpcClient, smallInt64s } from './fixtures/hostile-requests';

/**
 * Issue 13, class "heap exhaustion": a server with a 512 MiB heap (what V8 gives a ~2 GiB container) survives, and
 * stays ready, the largest request the default limits allow of each kind: 64 MiB bodies (maxBodyBytes) whose
 * tensors fit in 128 MiB (maxTensorBytes), bodies of small JSON values at maxJsonValueBytes, and bodies past a
 * budget, refused before anything is allocated. Each request runs alone on a fresh server, and is held to the
 * targets of docs/security.md:
 *
 * - memory: the server's peak resident memory during the request (Linux VmHWM, reset just before it) less its
 *   resident memory just before it is at most 4 × the body + {@link MEMORY_ALLOWANCE}; for tensors wider decoded than
 *   sent (8-byte INT64 from 1-byte varints or `0,`), which maxTensorBytes bounds and not the body, twice the body +
 *   the decoded tensors + the allowance (docs/security.md, "Known exceptions");
 * - event loop: the longest block the server measured itself during the request (test/helpers/loop-monitor.js) is
 *   at most {@link LOOP_TARGET_MS}. A request over it is measured once more on another fresh server, and fails
 *   only if it blocks that long again: a block the request causes repeats, a pause of this shared machine's
 *   scheduler does not.
 */

const CONFIG = join(__dirname, 'fixtures', 'hostile-server.yaml');
const BODY_LIMIT = 64 * 1024 * 1024;
const TENSOR_BUDGET = 128 * 1024 * 1024;
const SLACK = 64 * 1024; // room for the JSON around the data and for the header
/** The longest event-loop block a request may cause (docs/security.md). */
const LOOP_TARGET_MS = 100;
/**
 * What any request may add to the resident memory besides 4 × its body (docs/security.md, "Sizing memory"): the
 * JSON values outside tensor data a small body may hold (maxJsonValueBytes, 4 MiB by default), and 8 MiB for what
 * V8 adds while a request allocates (its young generation grown and touched, code compiled on first use). A fixed
 * figure, not derived from the default: a default raised without reason fails here.
 */
const MEMORY_ALLOWANCE = 12 * 1024 * 1024;
const GIVE_UP_MS = 60000;
const TEST_MS = 240000;

const launch = () => startCli(['--config', CONFIG], { LOG_LEVEL: 'warn' }, 60000, { nodeFlags: ['--max-old-space-size=512', ...LOOP_MONITOR_FLAGS] });
let server: ServerUnderTest | undefined;
const figures: string[] = [];

afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => {
  console.log(
    `small-heap server (--max-old-space-size=512), each request on a fresh server: peak RSS growth (bound 4 × body + ${MEMORY_ALLOWANCE / 2 ** 20} MiB) ` +
      `and longest event-loop block (target ${LOOP_TARGET_MS} ms, measured again when over):\n${figures.join('\n')}`,
  );
});

/** The server of the request being measured. */
function current(): ServerUnderTest {
  if (server === undefined) throw new Error('no server started');
  return server;
}

/** A fresh server: the previous one stopped, so no request finds memory an earlier one left resident. */
async function freshServer(): Promise<ServerUnderTest> {
  await server?.stop();
  server = new ServerUnderTest(launch);
  await server.ensure();
  return server;
}

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

/** What the server estimates the JSON values of `body` outside tensor data to take (its maxJsonValueBytes check). */
function jsonValueCost(body: Buffer): number {
  const scanner = new JsonBodyScanner(body, V2_SPANS, Number.MAX_SAFE_INTEGER);
  while (!scanner.step(Infinity));
  return scanner.cost;
}

/** The most `n` for which `make(n)`, a body of `n` repeats of one value, stays within the default maxJsonValueBytes. */
function mostWithinJsonBudget(make: (n: number) => Buffer): number {
  const base = jsonValueCost(make(0));
  return Math.floor((DEFAULT_MAX_JSON_VALUE_BYTES - base) / (jsonValueCost(make(1)) - base));
}

/** A v2 request whose `parameters.p` is a list of `n` copies of `item` (or items made by it), with a one-element tensor. */
function parametersList(n: number, item: string | ((i: number) => string)): Buffer {
  const items = typeof item === 'string' ? (n === 0 ? Buffer.alloc(0) : repeated(item + ',', (item.length + 1) * n - 1)) : Buffer.from(Array.from({ length: n }, (_, i) => item(i)).join(','));
  return Buffer.concat([Buffer.from('{"parameters":{"p":['), items, Buffer.from(']},"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[0]}]}')]);
}

interface Outcome {
  status: number | string;
  ok: boolean;
  body: string;
}

/** One run of a request on a fresh server: its figures line, its problems, and its longest block. */
interface Run {
  problems: string[];
  blockMs: number;
}

/** How a request is bounded: by its body, or (tensors wider decoded than sent) by its body and its decoded tensors. */
function memoryBound(bodyBytes: number, decodedBytes: number): number {
  return Math.max(4 * bodyBytes, 2 * bodyBytes + decodedBytes) + MEMORY_ALLOWANCE;
}

async function runOnce(kind: string, bodyBytes: number, run: () => Promise<Outcome>, check: (o: Outcome) => string | undefined, decodedBytes: number): Promise<Run> {
  const seen = await (await freshServer()).observe(run, { giveUpMs: GIVE_UP_MS, memory: true });
  const size = `body ${(bodyBytes / 2 ** 20).toFixed(1)} MiB`;
  if (seen.peakGrowthBytes === undefined) {
    figures.push(`  ${kind.padEnd(46)} ${size}: ${seen.afterwards?.split('\n')[0]}`);
    return { problems: [`${kind}: ${seen.afterwards}`], blockMs: seen.serverBlockMs };
  }
  const growth = seen.peakGrowthBytes;
  const bound = memoryBound(bodyBytes, decodedBytes);
  figures.push(
    `  ${kind.padEnd(46)} ${size} → ${seen.value.status} in ${seen.ms} ms; peak RSS +${(growth / 2 ** 20).toFixed(1)} MiB ` +
      `(${(growth / bodyBytes).toFixed(1)}× the body; bound ${(bound / 2 ** 20).toFixed(0)} MiB); longest loop block ${seen.serverBlockMs} ms (probe gap ${seen.maxGapMs} ms)`,
  );
  const problems: string[] = [];
  const problem = check(seen.value);
  if (problem !== undefined) problems.push(`${kind}: ${problem}`);
  if (seen.afterwards !== undefined) problems.push(`${kind}: ${seen.afterwards}`);
  if (growth > bound) {
    problems.push(`${kind}: the peak resident memory grew by ${(growth / 2 ** 20).toFixed(1)} MiB, over its bound of ${(bound / 2 ** 20).toFixed(1)} MiB`);
  }
  return { problems, blockMs: seen.serverBlockMs };
}

/**
 * Runs one request on a fresh server and gives the problems with its answer, the process, its memory and the event
 * loop; a block over the target is measured again on another fresh server, and is a problem only if it repeats.
 * `decodedBytes`: the decoded size of tensors wider than their wire form (see {@link memoryBound}).
 */
async function measure(kind: string, bodyBytes: number, run: () => Promise<Outcome>, check: (o: Outcome) => string | undefined, decodedBytes = 0): Promise<string[]> {
  const first = await runOnce(kind, bodyBytes, run, check, decodedBytes);
  if (first.blockMs <= LOOP_TARGET_MS) return first.problems;
  const again = await runOnce(`${kind} (again: ${first.blockMs} ms)`, bodyBytes, run, check, decodedBytes);
  const problems = [...first.problems, ...again.problems];
  if (again.blockMs > LOOP_TARGET_MS) {
    problems.push(`${kind}: the event loop was blocked for ${first.blockMs} ms, and ${again.blockMs} ms on a fresh server (target ${LOOP_TARGET_MS} ms)`);
  }
  return problems;
}

/** A REST request as an outcome. */
async function rest(path: string, body: Buffer, headers: Record<string, string>): Promise<Outcome> {
  const a = await send(current().cli.port, path, { body, headers: { 'content-type': 'application/json', ...headers }, timeoutMs: GIVE_UP_MS });
  return { status: a.status === 0 ? `no answer (${a.error})` : a.status, ok: a.status === 200, body: a.body };
}

/** A gRPC ModelInfer with raw message bytes (gzip-compressed on the wire when `gzip`) as an outcome. */
async function grpcInfer(message: Buffer, gzip = false): Promise<Outcome> {
  const client = new RawGrpcClient(current().cli.grpcPort, { gzip });
  try {
    const a = await client.call('ModelInfer', message, {}, GIVE_UP_MS);
    return { status: a.code === 0 ? 'OK' : `gRPC ${a.code}`, ok: a.code === 0, body: a.details };
  } finally {
    client.close();
  }
}

/** 200, else what came back. */
const answered200 = (o: Outcome) => (o.ok ? undefined : `wanted 200, got ${o.status}: ${o.body.slice(0, 300)}`);
/** A 400 naming maxJsonValueBytes. */
const refusedValues = (o: Outcome) => (typeof o.status === 'number' ? errorAnswerProblem('answer', { status: o.status, body: o.body }, [400], /maxJsonValueBytes/) : `wanted 400, got ${o.status}`);
/** The same in OpenAI's error shape. */
const refusedValuesOpenAI = (o: Outcome) => (typeof o.status === 'number' ? openAIAnswerProblem('answer', { status: o.status, body: o.body }, [400], /maxJsonValueBytes/) : `wanted 400, got ${o.status}`);
/** A 413 naming maxTensorBytes. */
const refused413 = (o: Outcome) => (typeof o.status === 'number' ? errorAnswerProblem('answer', { status: o.status, body: o.body }, [413], /maxTensorBytes/) : `wanted 413, got ${o.status}`);

describe('hostile input: the largest requests the defaults allow, on a 512 MiB heap (real process)', () => {
  it('JSON FP32: 64 MiB of "0," (128 MiB decoded)', async () => {
    const n = most(2, 4);
    const body = jsonRequest('FP32', [n], repeated('0,', 2 * n - 1));
    expect(await measure('JSON FP32', body.length, () => rest('/v2/models/count/infer', body, {}), answered200)).toEqual([]);
  }, TEST_MS);

  it('JSON INT32 small integers: 64 MiB of "1,"', async () => {
    const n = most(2, 4);
    const body = jsonRequest('INT32', [n], repeated('1,', 2 * n - 1));
    expect(await measure('JSON INT32 small ints', body.length, () => rest('/v2/models/count/infer', body, {}), answered200)).toEqual([]);
  }, TEST_MS);

  it('JSON nested rows: 64 MiB of [0,0,0,0] rows', async () => {
    const rows = Math.floor(most(2.5, 4) / 4);
    const body = jsonRequest('FP32', [rows, 4], repeated('[0,0,0,0],', 10 * rows - 1));
    expect(await measure('JSON FP32 nested rows', body.length, () => rest('/v2/models/count/infer', body, {}), answered200)).toEqual([]);
  }, TEST_MS);

  it('JSON parameters: as many empty objects as maxJsonValueBytes allows, then one more', async () => {
    const most = mostWithinJsonBudget((n) => parametersList(n, '{}'));
    for (const [objects, wanted] of [[most, answered200], [most + 1, refusedValues]] as const) {
      const body = parametersList(objects, '{}');
      expect(await measure(`JSON ${objects} empty objects in parameters`, body.length, () => rest('/v2/models/count/infer', body, {}), wanted)).toEqual([]);
    }
  }, TEST_MS);

  it('JSON parameters: the costliest small values for their bytes, as many as maxJsonValueBytes allows', async () => {
    const shapes: [string, string | ((i: number) => string)][] = [
      ['[{}] pairs', '[{}]'],
      ['objects with keys of their own', (i) => `{"${i.toString(36)}":0}`],
      ['one-element rows', '[0]'],
    ];
    for (const [shape, item] of shapes) {
      const body = parametersList(mostWithinJsonBudget((n) => parametersList(n, item)), item);
      expect(await measure(`JSON parameters, ${shape}`, body.length, () => rest('/v2/models/count/infer', body, {}), answered200)).toEqual([]);
    }
  }, TEST_MS);

  it('MLRun rows: as many [5.1,3.5,1.4,0.2] rows as maxJsonValueBytes allows', async () => {
    const rows = (n: number) => Buffer.concat([Buffer.from('{"inputs":['), n === 0 ? Buffer.alloc(0) : repeated('[5.1,3.5,1.4,0.2],', 18 * n - 1), Buffer.from(']}')]);
    const body = rows(mostWithinJsonBudget(rows));
    expect(await measure('MLRun rows at maxJsonValueBytes', body.length, () => rest('/v2/models/count-fp32/infer', body, {}), answered200)).toEqual([]);
  }, TEST_MS);

  it('OpenAI chat completion: 64 MiB of empty messages, refused before they are built', async () => {
    const n = Math.floor((BODY_LIMIT - SLACK) / 3);
    const body = Buffer.concat([Buffer.from('{"model":"echo","messages":['), repeated('{},', 3 * n - 1), Buffer.from(']}')]);
    expect(await measure('OpenAI chat, 64 MiB of {} messages', body.length, () => rest('/openai/v1/chat/completions', body, {}), refusedValuesOpenAI)).toEqual([]);
  }, TEST_MS);

  it('JSON BYTES: 64 MiB of one-character strings', async () => {
    const n = most(4, 5);
    const body = jsonRequest('BYTES', [n], repeated('"a",', 4 * n - 1));
    expect(await measure('JSON BYTES', body.length, () => rest('/v2/models/count/infer', body, {}), answered200)).toEqual([]);
  }, TEST_MS);

  it('JSON INT64 at the tensor budget: 32 MiB of "0," (128 MiB decoded)', async () => {
    const n = most(2, 8);
    const body = jsonRequest('INT64', [n], repeated('0,', 2 * n - 1));
    expect(await measure('JSON INT64 at maxTensorBytes', body.length, () => rest('/v2/models/count/infer', body, {}), answered200, 8 * n)).toEqual([]);
  }, TEST_MS);

  it('JSON FP64 past the tensor budget (64 MiB of "0," is 256 MiB decoded): 413 before allocating', async () => {
    const n = Math.floor((BODY_LIMIT - SLACK) / 2);
    const body = jsonRequest('FP64', [n], repeated('0,', 2 * n - 1));
    expect(await measure('JSON FP64 past maxTensorBytes', body.length, () => rest('/v2/models/count/infer', body, {}), refused413)).toEqual([]);
  }, TEST_MS);

  it('binary BYTES: a 64 MiB tail of one-byte elements', async () => {
    const n = most(5, 5);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [n], parameters: { binary_data_size: 5 * n } }] }));
    const body = Buffer.concat([header, repeated(Buffer.from([1, 0, 0, 0, 0x61]), 5 * n)]);
    const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) };
    expect(await measure('binary BYTES', body.length, () => rest('/v2/models/count/infer', body, headers), answered200)).toEqual([]);
  }, TEST_MS);

  it('binary FP32: a 64 MiB tail', async () => {
    const n = most(4, 4);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [n], parameters: { binary_data_size: 4 * n } }] }));
    const body = Buffer.concat([header, Buffer.alloc(4 * n)]);
    const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) };
    expect(await measure('binary FP32', body.length, () => rest('/v2/models/count/infer', body, headers), answered200)).toEqual([]);
  }, TEST_MS);

  it('gRPC bytes_contents: a 64 MiB message of one-byte elements', async () => {
    const n = most(3, 5);
    const message = inferRequest({ model: 'count', inputs: [{ name: 'x', datatype: 'BYTES', shape: [n], contents: oneByteStrings(n) }] });
    expect(await measure('gRPC bytes_contents', message.length, () => grpcInfer(message), (o) => (o.ok ? undefined : `wanted OK, got ${o.status}: ${o.body.slice(0, 300)}`))).toEqual([]);
  }, TEST_MS);

  it('gRPC bytes_contents, gzip-compressed: a 64 MiB message inflated by the server', async () => {
    const n = most(3, 5);
    const message = inferRequest({ model: 'count', inputs: [{ name: 'x', datatype: 'BYTES', shape: [n], contents: oneByteStrings(n) }] });
    expect(await measure('gRPC bytes_contents, gzip', message.length, () => grpcInfer(message, true), (o) => (o.ok ? undefined : `wanted OK, got ${o.status}: ${o.body.slice(0, 300)}`))).toEqual([]);
  }, TEST_MS);

  it('gRPC int64_contents: 16M small values (128 MiB decoded, the budget)', async () => {
    const n = most(1, 8);
    const message = inferRequest({ model: 'count', inputs: [{ name: 'x', datatype: 'INT64', shape: [n], contents: smallInt64s(n) }] });
    const ok = (o: Outcome) => (o.ok ? undefined : `wanted OK, got ${o.status}: ${o.body.slice(0, 300)}`);
    expect(await measure('gRPC int64_contents at the budget', message.length, () => grpcInfer(message), ok, 8 * n)).toEqual([]);
  }, TEST_MS);

  it('gRPC int64_contents past the budget: a 64 MiB message of small values (512 MiB decoded) is RESOURCE_EXHAUSTED', async () => {
    const n = BODY_LIMIT - SLACK;
    const message = inferRequest({ model: 'count', inputs: [{ name: 'x', datatype: 'INT64', shape: [n], contents: smallInt64s(n) }] });
    const check = (o: Outcome) => (o.status === `gRPC ${GRPC.RESOURCE_EXHAUSTED}` && /maxTensorBytes/.test(o.body) ? undefined : `wanted RESOURCE_EXHAUSTED naming maxTensorBytes, got ${o.status}: ${o.body.slice(0, 300)}`);
    expect(await measure('gRPC int64_contents past maxTensorBytes', message.length, () => grpcInfer(message), check)).toEqual([]);
  }, TEST_MS);

  it('SageMaker CSV: one row of 32M columns', async () => {
    const n = most(2, 4);
    const body = Buffer.concat([repeated('0,', 2 * n - 1), Buffer.from('\n')]);
    expect(await measure('SageMaker CSV, millions of columns', body.length, () => rest('/invocations', body, { 'content-type': 'text/csv' }), answered200)).toEqual([]);
  }, TEST_MS);

  it('SageMaker NPY: |S1 digits to an FP32 model (refused at once with a 400: bytes are not numbers)', async () => {
    const n = most(1, 4);
    const body = npy(npyHeader('|S1', [1, n]), repeated('1', n));
    const check = (o: Outcome) => (typeof o.status === 'number' ? errorAnswerProblem('answer', { status: o.status, body: o.body }, [400], /dtype 'S1'/) : `wanted 400, got ${o.status}`);
    expect(await measure('SageMaker NPY |S1 → FP32', body.length, () => rest('/invocations', body, { 'content-type': 'application/x-npy' }), check)).toEqual([]);
  }, TEST_MS);

  it('SageMaker JSON rows: {"instances": [[0,0,0,0], ...]}', async () => {
    const rows = Math.floor(most(2.5, 4) / 4);
    const body = Buffer.concat([Buffer.from('{"instances":['), repeated('[0,0,0,0],', 10 * rows - 1), Buffer.from(']}')]);
    expect(await measure('SageMaker JSON rows', body.length, () => rest('/invocations', body, { 'content-type': 'application/json' }), answered200)).toEqual([]);
  }, TEST_MS);
});
