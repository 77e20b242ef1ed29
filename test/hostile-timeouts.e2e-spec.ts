import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { loadServerConfig } from '../src/config/server-config';
import { http, httpBytes, parseHttpAnswer, ServerUnderTest, startCli } from './helpers/cli-process';
import { errorAnswerProblem } from './fixtures/hostile-requests';

/**
 * Issue 13, class "timeouts": slow clients are cut off. A body sent a byte at a time, headers that never end, an
 * idle keep-alive connection and answers the client never reads are each closed within the configured time
 * (short here, from the config file's keys: test/fixtures/hostile-timeouts.yaml), and the memory of the unread
 * answers is released. The defaults and the environment variables are checked through config parsing rather than
 * by waiting two minutes.
 */

const CONFIG = join(__dirname, 'fixtures', 'hostile-timeouts.yaml');
const RECEIVE_MS = 3000;
const HEADERS_MS = 2000;
const SEND_MS = 2000;
const KEEP_ALIVE_MS = 1500;
/** How late past its setting a cut-off may come on this noisy machine. */
const SLACK_MS = 3000;

/** Every value of `key` anywhere in a settings object (functions and classes skipped). */
function settingValues(value: unknown, key: string, depth = 0): unknown[] {
  if (typeof value !== 'object' || value === null || depth > 6) return [];
  const found: unknown[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (k === key) found.push(v);
    if (typeof v === 'object') found.push(...settingValues(v, key, depth + 1));
  }
  return found;
}

describe('HTTP timeouts: defaults, settings and environment (config parsing)', () => {
  it('defaults: receiveTimeoutMs 120000, headersTimeoutMs 20000, sendTimeoutMs 30000, and a keepAliveTimeoutMs', () => {
    const config = loadServerConfig({}, {});
    expect({
      receiveTimeoutMs: settingValues(config, 'receiveTimeoutMs'),
      headersTimeoutMs: settingValues(config, 'headersTimeoutMs'),
      sendTimeoutMs: settingValues(config, 'sendTimeoutMs'),
    }).toEqual({ receiveTimeoutMs: [120000], headersTimeoutMs: [20000], sendTimeoutMs: [30000] });
    expect(settingValues(config, 'keepAliveTimeoutMs')).toEqual([expect.any(Number)]);
  });

  it('RECEIVE_TIMEOUT_MS, HEADERS_TIMEOUT_MS, SEND_TIMEOUT_MS and KEEP_ALIVE_TIMEOUT_MS override the file', () => {
    const config = loadServerConfig({ config: CONFIG }, { RECEIVE_TIMEOUT_MS: '61000', HEADERS_TIMEOUT_MS: '9000', SEND_TIMEOUT_MS: '7000', KEEP_ALIVE_TIMEOUT_MS: '4000' });
    expect({
      receiveTimeoutMs: settingValues(config, 'receiveTimeoutMs'),
      headersTimeoutMs: settingValues(config, 'headersTimeoutMs'),
      sendTimeoutMs: settingValues(config, 'sendTimeoutMs'),
      keepAliveTimeoutMs: settingValues(config, 'keepAliveTimeoutMs'),
    }).toEqual({ receiveTimeoutMs: [61000], headersTimeoutMs: [9000], sendTimeoutMs: [7000], keepAliveTimeoutMs: [4000] });
  });

  it('a value that is not a non-negative integer is refused at startup, naming the variable', () => {
    expect(() => loadServerConfig({ config: CONFIG }, { RECEIVE_TIMEOUT_MS: 'soon' })).toThrow(/RECEIVE_TIMEOUT_MS/);
    expect(() => loadServerConfig({ config: CONFIG }, { SEND_TIMEOUT_MS: '-1' })).toThrow(/SEND_TIMEOUT_MS/);
  });
});

/** What a slow client saw: when the server closed, and what it answered (if anything). */
interface SlowResult {
  closedAfterMs: number | undefined;
  answer: ReturnType<typeof parseHttpAnswer>;
  sent: number;
}

/** Writes `head` at once, then `drip` one byte every `everyMs`, until the server closes or `maxMs` passes. */
function slowClient(port: number, head: Buffer, drip: Buffer, everyMs: number, maxMs: number): Promise<SlowResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedAfterMs: closed ? Date.now() - started : undefined, answer: parseHttpAnswer(Buffer.concat(chunks)), sent });
    };
    const giveUp = setTimeout(() => finish(false), maxMs);
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent >= drip.length || socket.destroyed) return;
        socket.write(drip.subarray(sent, sent + 1));
        sent++;
      }, everyMs);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

/** What is wrong with a slow client's outcome: not closed in time, or an answer that is not a 408 `{"error"}`. */
function cutOffProblem(label: string, r: SlowResult, withinMs: number, names?: RegExp): string | undefined {
  if (r.closedAfterMs === undefined) return `${label}: still open after ${withinMs + 2 * SLACK_MS} ms (${r.sent} bytes dripped)`;
  if (r.closedAfterMs > withinMs + SLACK_MS) return `${label}: closed after ${r.closedAfterMs} ms (bound ${withinMs} + ${SLACK_MS} ms)`;
  if (r.answer.status === 0) return undefined; // closed without an answer
  return errorAnswerProblem(label, r.answer, [408], names);
}

/** What the never-read scenario measured. */
interface UnreadResult {
  baseline: number;
  held: number;
  after: number;
  /** Bytes each client could still read after the cut-off. */
  received: number[];
  answerBytes: number;
}

/**
 * Four clients send a request whose answer is 24 MiB and never read it; after sendTimeoutMs (and a GC in the
 * server) the resident memory is compared with the baseline, then each client reads what it still can.
 */
async function neverRead(port: number, pid: number): Promise<UnreadResult> {
  // The memory the server's JavaScript holds (heap and buffers, from its own /metrics) after two collections a
  // second apart: a collection gives buffers back through a sweeper that runs after it. Resident memory is not
  // the measure: the allocator keeps freed pages of large buffers for reuse.
  const gcRss = async () => {
    for (let i = 0; i < 2; i++) {
      process.kill(pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 1000));
    }
    const metrics = (await http(port, 'GET', '/metrics')).body;
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    return value('nodejs_heap_size_used_bytes') + value('nodejs_external_memory_bytes');
  };
  const n = 6 * 1024 * 1024; // 24 MiB of FP32 each way
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [n], parameters: { binary_data_size: 4 * n } }], parameters: { binary_data_output: true } }));
  const request = httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) }, Buffer.concat([header, Buffer.alloc(4 * n, 1)]));
  const baseline = await gcRss();
  const sockets: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = connect({ host: '127.0.0.1', port });
    s.pause();
    s.on('error', () => undefined);
    s.write(request);
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 1500));
  const held = await gcRss();
  await new Promise((r) => setTimeout(r, SEND_MS + SLACK_MS));
  const after = await gcRss();
  // A cut connection ends short of the whole answer.
  const received = await Promise.all(
    sockets.map(
      (s) =>
        new Promise<number>((resolve) => {
          let bytes = 0;
          const stop = setTimeout(() => {
            s.destroy();
            resolve(bytes);
          }, 3000);
          s.on('data', (c: Buffer) => (bytes += c.length));
          s.on('close', () => {
            clearTimeout(stop);
            resolve(bytes);
          });
          s.resume();
        }),
    ),
  );
  return { baseline, held, after, received, answerBytes: 4 * n };
}

describe('hostile input: slow clients are cut off (real process, short timeouts)', () => {
  const server = new ServerUnderTest(() =>
    startCli(['--config', CONFIG], { LOG_LEVEL: 'warn' }, 30000, { nodeFlags: ['--expose-gc', '--require', join(__dirname, 'fixtures', 'hostile-probe.js')] }),
  );
  // The slow clients run side by side (each test awaits its own), so the file waits for the longest, not the sum.
  let slowBodies: Promise<SlowResult[]>;
  let slowHeaders: Promise<SlowResult>;
  let idle: Promise<SlowResult>;
  let unread: Promise<UnreadResult | Error>;
  beforeAll(async () => {
    const { port, pid } = await server.ensure();
    const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', datatype: 'INT32', shape: [1], data: [1] }] }));
    const plainHead = httpBytes('POST', '/v2/models/echo/infer', { 'Content-Type': 'application/json', 'Content-Length': String(body.length + 1000) });
    const chunkedHead = httpBytes('POST', '/invocations', { 'Content-Type': 'text/csv', 'Transfer-Encoding': 'chunked' });
    slowBodies = Promise.all([
      slowClient(port, plainHead, Buffer.concat([body, Buffer.alloc(1000, 0x20)]), 300, RECEIVE_MS + 2 * SLACK_MS),
      slowClient(port, chunkedHead, Buffer.from('1\r\n1\r\n'.repeat(200)), 300, RECEIVE_MS + 2 * SLACK_MS),
    ]);
    slowHeaders = slowClient(port, Buffer.from('POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\n', 'latin1'), Buffer.from(`X-Slow: ${'a'.repeat(200)}\r\n`), 300, HEADERS_MS + 2 * SLACK_MS);
    idle = slowClient(port, httpBytes('GET', '/v2/health/live', { Connection: 'keep-alive' }), Buffer.alloc(0), 1000, KEEP_ALIVE_MS + 2 * SLACK_MS);
    unread = neverRead(port, pid).catch((err: Error) => err);
  }, 60000);
  afterAll(() => server.stop());

  it(`a body sent one byte every 300 ms is cut off after receiveTimeoutMs (${RECEIVE_MS} ms), plain and chunked, and the server stays ready`, async () => {
    const [plain, chunked] = await slowBodies;
    console.log(`slow body: plain closed after ${plain.closedAfterMs} ms (${plain.answer.status}), chunked after ${chunked.closedAfterMs} ms (${chunked.answer.status})`);
    const problems = [cutOffProblem('plain body', plain, RECEIVE_MS, /receiveTimeoutMs/), cutOffProblem('chunked body', chunked, RECEIVE_MS, /receiveTimeoutMs/)];
    if ((await http(server.cli.port, 'GET', '/v2/health/ready')).status !== 200) problems.push('not ready afterwards');
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  }, 30000);

  it(`headers sent one byte every 300 ms are cut off after headersTimeoutMs (${HEADERS_MS} ms)`, async () => {
    const r = await slowHeaders;
    console.log(`slow headers: closed after ${r.closedAfterMs} ms (${r.answer.status})`);
    expect([cutOffProblem('slow headers', r, HEADERS_MS)].filter((p) => p !== undefined)).toEqual([]);
  }, 30000);

  it(`an idle keep-alive connection is closed after keepAliveTimeoutMs (${KEEP_ALIVE_MS} ms)`, async () => {
    const r = await idle;
    expect(r.answer.status).toBe(200);
    expect(r.closedAfterMs).toBeDefined();
    expect(r.closedAfterMs!).toBeLessThan(KEEP_ALIVE_MS + SLACK_MS);
  }, 30000);

  it(`answers the client never reads are cut off after sendTimeoutMs (${SEND_MS} ms) and their memory released`, async () => {
    const r = await unread;
    if (r instanceof Error) throw r;
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    console.log(`unread answers: heap + buffers ${mib(r.baseline)} before, ${mib(r.held)} while held, ${mib(r.after)} after sendTimeoutMs + GC; bytes each client got: ${r.received.map(mib).join(', ')} of ${mib(r.answerBytes)}`);
    const problems: string[] = [];
    r.received.forEach((bytes, i) => {
      if (bytes >= r.answerBytes) problems.push(`client ${i} still got the whole answer (${bytes} bytes) after ${SEND_MS + SLACK_MS} ms unread`);
    });
    if (r.after - r.baseline > 48 * 2 ** 20) problems.push(`heap and buffers ${mib(r.after - r.baseline)} above the baseline after the cut-off and a GC (bound 48 MiB)`);
    if ((await http(server.cli.port, 'GET', '/v2/health/ready')).status !== 200) problems.push('not ready afterwards');
    expect(problems).toEqual([]);
  }, 60000);
});
