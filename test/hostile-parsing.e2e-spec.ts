import { join } from 'node:path';
import { LOOP_MONITOR_FLAGS, send, ServerUnderTest, startCli } from './helpers/cli-process';
import { errorAnswerProblem, npy, npyHeader } from './fixtures/hostile-requests';

/**
 * Issue 13, class "slow parsing": inputs made to make a parser backtrack or a conversion go quadratic (a 60 KB CSV
 * field, a 180 KB NPY header, an 8M-digit integer, deep nesting) are refused with a short 400 quickly, without
 * blocking the server's event loop for a second and without echoing the input. Each test prints its time
 * and the longest block the server measured (test/helpers/loop-monitor.js).
 */

const CONFIG = join(__dirname, 'fixtures', 'hostile-server.yaml');
const ANSWER_WITHIN_MS = 2000;
const LOOP_BOUND_MS = 1000;
const GIVE_UP_MS = 15000;
/** An error body quoting client text must stay this small (the text is clipped to a few hundred characters). */
const MAX_ERROR_BYTES = 1024;

const server = new ServerUnderTest(() => startCli(['--config', CONFIG], { LOG_LEVEL: 'warn' }, 30000, { nodeFlags: LOOP_MONITOR_FLAGS }));
const figures: string[] = [];

beforeEach(() => server.ensure(), 60000);
afterAll(async () => {
  console.log(`slow-parsing inputs:\n${figures.join('\n')}`);
  await server.stop();
});

/** Sends one request and checks: a 400 `{"error"}` (matching `names` if given), small, quick, the loop free, the server fine. */
async function refusedQuickly(kind: string, path: string, body: Buffer | string, headers: Record<string, string>, names?: RegExp): Promise<string[]> {
  const seen = await server.observe(() => send(server.cli.port, path, { body, headers, timeoutMs: GIVE_UP_MS }), { giveUpMs: GIVE_UP_MS });
  const a = seen.value;
  figures.push(`  ${kind.padEnd(56)} → ${a.status || a.error} (${a.body.length} bytes) in ${seen.ms} ms; longest loop block ${seen.serverBlockMs} ms (probe gap ${seen.maxGapMs} ms)`);
  const problems: string[] = [];
  const problem = errorAnswerProblem(kind, a, [400], names);
  if (problem !== undefined) problems.push(problem);
  if (a.body.length > MAX_ERROR_BYTES) problems.push(`${kind}: an error body of ${a.body.length} bytes (bound ${MAX_ERROR_BYTES}): the input is echoed`);
  if (seen.ms >= ANSWER_WITHIN_MS) problems.push(`${kind}: answered in ${seen.ms} ms (bound ${ANSWER_WITHIN_MS} ms)`);
  if (seen.serverBlockMs >= LOOP_BOUND_MS) problems.push(`${kind}: the event loop was blocked for ${seen.serverBlockMs} ms (bound ${LOOP_BOUND_MS} ms)`);
  if (seen.afterwards !== undefined) problems.push(`${kind}: ${seen.afterwards}`);
  return problems;
}

const CSV = { 'content-type': 'text/csv' };
const digits = (n: number) => '1'.repeat(n);

describe('hostile input: parsers stay linear (real process)', () => {
  it('CSV: one 60 KB field of digits that ends in a letter', async () => {
    expect(await refusedQuickly('CSV 60 KB field → FP32 model', '/invocations', `${digits(60000)}x\n`, CSV)).toEqual([]);
  }, 30000);

  it('CSV: the same field to an INT64 model (read exactly)', async () => {
    expect(await refusedQuickly('CSV 60 KB field → INT64 model', '/invocations', `${digits(60000)}x\n`, { ...CSV, 'x-amzn-sagemaker-target-model': 'count-int64' })).toEqual([]);
  }, 30000);

  it('CSV: sixteen such fields in one row (1 MB)', async () => {
    const row = Array.from({ length: 16 }, () => `${digits(60000)}.${digits(5)}e`).join(',');
    expect(await refusedQuickly('CSV 16 × 60 KB fields', '/invocations', `${row}\n`, CSV)).toEqual([]);
  }, 30000);

  it('CSV: an 8M-digit integer to an INT64 model', async () => {
    expect(await refusedQuickly('CSV 8M-digit integer → INT64 model', '/invocations', `${digits(8_000_000)}\n`, { ...CSV, 'x-amzn-sagemaker-target-model': 'count-int64' })).toEqual([]);
  }, 30000);

  it('NPY: a 180 KB header made to backtrack, refused by the 10,000-byte header cap', async () => {
    const header = `{'descr': '<f4', 'fortran_order': False, ${"'shape': (".repeat(20000)}`;
    const body = npy(header, Buffer.alloc(16));
    expect(await refusedQuickly(`NPY ${(body.length / 1024).toFixed(0)} KB header`, '/invocations', body, { 'content-type': 'application/x-npy' }, /header/i)).toEqual([]);
  }, 30000);

  it('NPY: a well-formed header padded past 10,000 bytes', async () => {
    const body = npy(`${npyHeader('<f4', [1, 4])}${' '.repeat(12000)}`, Buffer.alloc(16));
    expect(await refusedQuickly('NPY 12 KB well-formed header', '/invocations', body, { 'content-type': 'application/x-npy' }, /header/i)).toEqual([]);
  }, 30000);

  it('JSON: an 8M-digit integer in INT64 data', async () => {
    const body = `{"inputs":[{"name":"x","datatype":"INT64","shape":[1],"data":[${digits(8_000_000)}]}]}`;
    expect(await refusedQuickly('JSON 8M-digit integer in INT64 data', '/v2/models/count/infer', body, { 'content-type': 'application/json' })).toEqual([]);
  }, 30000);

  it('JSON: an 8M-digit integer in the parameters', async () => {
    const body = `{"parameters":{"n":${digits(8_000_000)}},"inputs":[{"name":"x","datatype":"INT64","shape":[1],"data":[1]}]}`;
    expect(await refusedQuickly('JSON 8M-digit integer in parameters', '/v2/models/count/infer', body, { 'content-type': 'application/json' })).toEqual([]);
  }, 30000);

  it('JSON: an 8M-digit integer in SageMaker rows to an INT64 model', async () => {
    const body = `[[${digits(8_000_000)}]]`;
    expect(await refusedQuickly('SageMaker JSON rows, 8M-digit integer', '/invocations', body, { 'content-type': 'application/json', 'x-amzn-sagemaker-target-model': 'count-int64' })).toEqual([]);
  }, 30000);

  it('JSON: a 21-digit integer literal', async () => {
    const body = `{"inputs":[{"name":"x","datatype":"INT64","shape":[1],"data":[${digits(21)}]}]}`;
    expect(await refusedQuickly('JSON 21-digit integer', '/v2/models/count/infer', body, { 'content-type': 'application/json' })).toEqual([]);
  }, 30000);

  it('JSON: nesting over 512 levels in data, and 100,000 levels in parameters', async () => {
    const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
    const inData = `{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":${deep(600)}}]}`;
    const inParameters = `{"parameters":{"p":${deep(100000)}},"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}`;
    const problems = [
      ...(await refusedQuickly('JSON nesting 600 in data', '/v2/models/count/infer', inData, { 'content-type': 'application/json' }, /512/)),
      ...(await refusedQuickly('JSON nesting 100000 in parameters', '/v2/models/count/infer', inParameters, { 'content-type': 'application/json' }, /512/)),
      ...(await refusedQuickly('SageMaker JSON rows nested 100000', '/invocations', deep(100000), { 'content-type': 'application/json' }, /512/)),
    ];
    expect(problems).toEqual([]);
  }, 60000);
});
