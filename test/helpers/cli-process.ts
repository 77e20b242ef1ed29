import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One HTTP request to 127.0.0.1; a refused connection answers status 0. */
export function http(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: body ? { 'content-type': 'application/json', ...headers } : headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end(body);
  });
}

/** An answer with its headers; `status` 0 and `error` set when the connection failed before an answer. */
export interface FullHttpAnswer extends HttpAnswer {
  headers: IncomingHttpHeaders;
  /** Milliseconds from sending to the end of the answer. */
  ms: number;
  error?: string;
}

/** Settings of {@link send}. */
export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Give up (status 0, error 'timeout') after this long; default 60 s. */
  timeoutMs?: number;
}

/**
 * One HTTP request to 127.0.0.1 with exactly the headers given (no content type added), answering headers and
 * timing too; a connection that fails or a timeout answers status 0 with `error`.
 */
export function send(port: number, path: string, options: SendOptions = {}): Promise<FullHttpAnswer> {
  const started = Date.now();
  // A keep-alive connection, as most clients use: with `Connection: close` Node's server closes the socket right
  // after an early answer (a 413 on Content-Length) while the body still arrives, and the reset can beat the answer.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise<FullHttpAnswer>((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'POST', path, headers: options.headers ?? {}, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started }));
      res.on('error', (err) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started, error: err.message }));
    });
    req.setTimeout(options.timeoutMs ?? 60000, () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, headers: {}, body: '', ms: Date.now() - started, error: err.message }));
    req.end(options.body);
  }).finally(() => agent.destroy());
}

/** What came back on a raw connection: the bytes, and how the connection ended. */
export interface RawAnswer {
  /** Everything the server sent. */
  bytes: Buffer;
  /** The status of the first answer in `bytes`, 0 if there is none. */
  status: number;
  /** Its headers (lower-case names; the last of repeated ones). */
  headers: Record<string, string>;
  /** Its body (de-chunked), as text. */
  body: string;
  /**
   * 'answered': a whole answer arrived (the connection may still be open: keep-alive); 'closed' by the server;
   * 'timeout' (we gave up); 'error' (reset, refused).
   */
  end: 'answered' | 'closed' | 'timeout' | 'error';
  ms: number;
}

/** Settings of {@link rawRequest}. */
export interface RawRequestOptions {
  /** Give up after this long (end 'timeout'); default 10 s. */
  timeoutMs?: number;
  /**
   * Half-close our side once everything is written (default false). Node's HTTP server drops a request whose
   * client half-closes before the answer, so only a test of a body that ends early (a lying Content-Length) wants it.
   */
  halfClose?: boolean;
  /** Write the bytes in pieces of this size, one per tick (default: all at once). */
  pieceBytes?: number;
}

/**
 * Writes raw bytes to 127.0.0.1:port (an HTTP request exactly as given, lying headers and all), then reads until
 * the server closes the connection or the timeout passes.
 */
export function rawRequest(port: number, bytes: Buffer | string, options: RawRequestOptions = {}): Promise<RawAnswer> {
  const started = Date.now();
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const finish = (end: RawAnswer['end']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseHttpAnswer(Buffer.concat(chunks)), end, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish('timeout'), options.timeoutMs ?? 10000);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (answerComplete(Buffer.concat(chunks))) finish('answered');
    });
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('error', () => finish('error'));
    socket.on('connect', () => {
      const piece = options.pieceBytes ?? data.length;
      let at = 0;
      const pump = () => {
        while (at < data.length && !socket.destroyed) {
          const part = data.subarray(at, Math.min(data.length, at + Math.max(1, piece)));
          at += part.length;
          const more = socket.write(part);
          if (piece < data.length) return void setImmediate(pump);
          if (!more) return void socket.once('drain', pump);
        }
        if (options.halfClose === true && !socket.destroyed) socket.end();
      };
      pump();
    });
  });
}

/**
 * The bytes of an HTTP/1.1 request: request line, `Host` and `Connection: close` (unless given), the headers as
 * given, a `Content-Length` of the body unless a Content-Length or Transfer-Encoding header is given, the body.
 */
export function httpBytes(method: string, path: string, headers: Record<string, string>, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const names = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
  const all: [string, string][] = [];
  if (!names.has('host')) all.push(['Host', '127.0.0.1']);
  if (!names.has('connection')) all.push(['Connection', 'close']);
  all.push(...Object.entries(headers));
  if (!names.has('content-length') && !names.has('transfer-encoding') && (b.length > 0 || method === 'POST')) all.push(['Content-Length', String(b.length)]);
  const head = `${method} ${path} HTTP/1.1\r\n${all.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

/** True when a byte stream holds a whole HTTP/1.1 answer: its head, and its body by Content-Length or chunks. */
function answerComplete(bytes: Buffer): boolean {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd === -1) return false;
  const head = bytes.toString('latin1', 0, headEnd);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length !== null) return bytes.length - headEnd - 4 >= Number(length[1]);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) return bytes.subarray(headEnd + 4).includes('\r\n0\r\n\r\n') || bytes.subarray(headEnd + 4).indexOf('0\r\n\r\n') === 0;
  return false; // a body that ends with the connection
}

/** The first HTTP/1.1 answer in a byte stream (status, headers, de-chunked body); status 0 when there is none. */
export function parseHttpAnswer(bytes: Buffer): Pick<RawAnswer, 'bytes' | 'status' | 'headers' | 'body'> {
  const headEnd = bytes.indexOf('\r\n\r\n');
  const none = { bytes, status: 0, headers: {}, body: '' };
  if (headEnd === -1) return none;
  const lines = bytes.toString('latin1', 0, headEnd).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (m === null) return none;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let rest = bytes.subarray(headEnd + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = rest.indexOf('\r\n');
      if (eol === -1) break;
      const size = parseInt(rest.toString('latin1', 0, eol), 16);
      if (!(size > 0)) break;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      rest = rest.subarray(eol + 2 + size + 2);
    }
    rest = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    rest = rest.subarray(0, Number(headers['content-length']));
  }
  return { bytes, status: Number(m[1]), headers, body: rest.toString('utf8') };
}

export interface CliProcess {
  child: ChildProcess;
  port: number;
  /** The gRPC port (GRPC_PORT) unless the env given overrides it. */
  grpcPort: number;
  /** The id of the process that serves (see {@link servingPid}). */
  pid: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** How the server process is run (besides its arguments and environment). */
export interface LaunchOptions {
  /** Flags for node itself, before the script: `--max-old-space-size=512`, `--expose-gc`, `--require ...`. */
  nodeFlags?: string[];
  /** The script node runs (default: the CLI from source, `cli-launcher.js`); e.g. the built `dist/src/cli.js`. */
  script?: string;
  /** The arguments before the caller's (default `serve`). */
  command?: string[];
  /** The working directory (default this process's). */
  cwd?: string;
  /** The path that answers 200 once the server is up (default `/v2/health/ready`). */
  readyPath?: string;
  /** The ports the server will use when the arguments name them (default: two free ones, as PORT and GRPC_PORT). */
  ports?: { http: number; grpc: number };
}

/** Starts the CLI from source as a real process on a free loopback port and waits until it answers ready. */
export async function startCli(args: string[], env: Record<string, string> = {}, timeoutMs = 30000, launch: LaunchOptions = {}): Promise<CliProcess> {
  const port = launch.ports?.http ?? (await freePort());
  const grpcPort = launch.ports?.grpc ?? (await freePort());
  const script = launch.script ?? join(__dirname, 'cli-launcher.js');
  const child = spawn(process.execPath, [...(launch.nodeFlags ?? []), script, ...(launch.command ?? ['serve']), ...args], {
    cwd: launch.cwd,
    // No shutdown delay unless a test asks for one: its stopCli should not wait for endpoints that do not exist.
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', GRPC_PORT: String(grpcPort), SHUTDOWN_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the CLI exited with ${child.exitCode}:\n${output}`);
    if ((await http(port, 'GET', launch.readyPath ?? '/v2/health/ready')).status === 200) {
      // The "listening" line is written before the first answer, but may reach this process after it.
      for (let i = 0; i < 40 && servingPid(output) === undefined && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
      return { child, port, grpcPort: Number(env.GRPC_PORT ?? grpcPort), pid: servingPid(output) ?? child.pid!, output: () => output, exited };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the CLI did not become ready in ${timeoutMs} ms:\n${output}`);
}

/**
 * The process that serves, as the CLI's "listening" line names it: the CLI's own, unless it serves from a child
 * process run with V8's single-threaded collector (src/gc-threads.ts).
 */
export function servingPid(output: string): number | undefined {
  const m = /^nest-model-server listening on .*\bpid (\d+)\)$/m.exec(output);
  return m === null ? undefined : Number(m[1]);
}

/** True while the server process runs. */
export function isRunning(cli: CliProcess): boolean {
  return cli.child.exitCode === null && cli.child.signalCode === null;
}

/** Stops the server process: SIGTERM, then SIGKILL if it has not exited within `graceMs`. Its exit code. */
export async function stopCli(cli: CliProcess | undefined, graceMs = 10000): Promise<number | null> {
  if (cli === undefined) return null;
  if (!isRunning(cli)) return cli.exited;
  cli.child.kill('SIGTERM');
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), graceMs);
  try {
    return await cli.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Ends the server process at once (SIGKILL): for a server stuck in work a test gave up waiting for. */
export async function killCli(cli: CliProcess): Promise<void> {
  if (isRunning(cli)) cli.child.kill('SIGKILL');
  await cli.exited;
}

/** A field of /proc/<pid>/status in bytes (Linux): `VmRSS` (resident now) or `VmHWM` (peak resident). */
function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** The resident memory of a process now, in bytes (Linux). */
export function rssBytes(pid: number): number {
  return procStatusBytes(pid, 'VmRSS');
}

/** The peak resident memory of a process since it started or since {@link resetPeakRss}, in bytes (Linux). */
export function peakRssBytes(pid: number): number {
  return procStatusBytes(pid, 'VmHWM');
}

/** Resets the peak resident memory of a process to its current value (Linux: `5` to /proc/<pid>/clear_refs). */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** Node flags that load the in-server event-loop monitor (`loop-monitor.js`), read by {@link ServerUnderTest.observe}. */
export const LOOP_MONITOR_FLAGS = ['--require', join(__dirname, 'loop-monitor.js')];

/** The longest block the in-server loop monitor printed in `output` (0 when it printed none). */
function longestServerBlock(output: string): number {
  let longest = 0;
  for (const m of output.matchAll(/\[loop-monitor\] blocked (\d+) ms/g)) longest = Math.max(longest, Number(m[1]));
  return longest;
}

/** What a {@link probeLoop} measured. */
export interface LoopProbeResult {
  /** The longest time between two consecutive probe answers (or from the start to the first), in ms. */
  maxGapMs: number;
  /** Probes answered. */
  probes: number;
  /** Probes that failed (connection refused or reset). */
  failures: number;
}

/** A running probe of a server's event loop; {@link LoopProbe.stop} ends it and gives the figures. */
export interface LoopProbe {
  stop(): Promise<LoopProbeResult>;
}

/**
 * Measures how long a server's event loop is blocked: GETs `path` one after another on a keep-alive connection
 * and records the longest gap between two answers. A gap includes a probe's round trip (about a millisecond on
 * loopback), so it is an upper bound of the longest block. Start it after preparing any large request body:
 * work that blocks this process's own loop counts too.
 */
export function probeLoop(port: number, path = '/v2/health/live'): LoopProbe {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let running = true;
  let last = Date.now();
  let current: ClientRequest | undefined;
  const result: LoopProbeResult = { maxGapMs: 0, probes: 0, failures: 0 };
  const once = () =>
    new Promise<boolean>((resolve) => {
      const req = (current = request({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(true));
        res.on('error', () => resolve(false));
      }));
      req.setTimeout(30000, () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  const loop = (async () => {
    while (running) {
      const ok = await once();
      const now = Date.now();
      result.maxGapMs = Math.max(result.maxGapMs, now - last);
      last = now;
      if (ok) result.probes++;
      else if (running) {
        result.failures++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      current?.destroy(); // a probe still waiting counts up to now
      await loop;
      agent.destroy();
      return result;
    },
  };
}

/**
 * A server a suite shares with a gRPC client of it: started before the suite's tests and the client connected,
 * the client closed and the server stopped after them (call at the top of a describe block or file).
 */
export function sharedServer<C extends { close(): void }>(server: ServerUnderTest, connect: (grpcPort: number) => C): { readonly grpc: C } {
  let client: C | undefined;
  beforeAll(async () => {
    await server.ensure();
    client = connect(server.cli.grpcPort);
  }, 60000);
  afterAll(async () => {
    client?.close();
    await server.stop();
  });
  return {
    get grpc(): C {
      if (client === undefined) throw new Error('the suite\'s server has not been started');
      return client;
    },
  };
}

/** What {@link ServerUnderTest.observe} saw while a request ran. */
export interface Observation<T> {
  /** What the request gave. */
  value: T;
  /** Milliseconds it took. */
  ms: number;
  /** The longest gap between two health-probe answers meanwhile (an upper bound of the longest event-loop block). */
  maxGapMs: number;
  probes: number;
  /**
   * The longest event-loop block the server measured itself meanwhile, when it runs with {@link LOOP_MONITOR_FLAGS}
   * (blocks under 40 ms are not reported: 0). Unlike `maxGapMs`, the test process's own work does not count.
   */
  serverBlockMs: number;
  /** Peak resident memory added during the request, in bytes (when asked for). */
  peakGrowthBytes?: number;
  /** Undefined when the process still runs and answers ready afterwards; else what happened to it. */
  afterwards?: string;
}

/**
 * A server process that a test file shares between its tests, replaced before a test when the previous one ended
 * it or left it stuck in work, so each test's result stands alone.
 */
export class ServerUnderTest {
  private current: CliProcess | undefined;
  private stuck = false;

  constructor(private readonly launch: () => Promise<CliProcess>) {}

  get cli(): CliProcess {
    if (this.current === undefined) throw new Error('the server has not been started');
    return this.current;
  }

  /** Starts it, or replaces it if it exited or was left stuck (call in beforeEach). */
  async ensure(): Promise<CliProcess> {
    if (this.current !== undefined && this.stuck) await killCli(this.current);
    if (this.current === undefined || !isRunning(this.current)) this.current = await this.launch();
    this.stuck = false;
    return this.current;
  }

  /** Marks it stuck: the next {@link ensure} replaces it. */
  abandon(): void {
    this.stuck = true;
  }

  async stop(): Promise<void> {
    if (this.current === undefined) return;
    if (this.stuck) await killCli(this.current);
    else await stopCli(this.current);
  }

  /**
   * Runs a request while probing the event loop (and the peak resident memory when `memory` is set), then checks
   * that the process still runs and answers ready. A request that took `giveUpMs` or more marks the server stuck.
   */
  async observe<T>(run: () => Promise<T>, options: { giveUpMs: number; memory?: boolean }): Promise<Observation<T>> {
    const cli = this.cli;
    let before = 0;
    if (options.memory === true) {
      await new Promise((r) => setTimeout(r, 200));
      before = rssBytes(cli.pid);
      resetPeakRss(cli.pid);
    }
    const probe = probeLoop(cli.port);
    const outputBefore = cli.output().length;
    const started = Date.now();
    const value = await run();
    const ms = Date.now() - started;
    const loop = await probe.stop();
    const serverBlockMs = longestServerBlock(cli.output().slice(outputBefore));
    const observation: Observation<T> = { value, ms, maxGapMs: loop.maxGapMs, probes: loop.probes, serverBlockMs };
    await new Promise((r) => setTimeout(r, 100)); // an unhandled rejection ends the process a tick later
    if (!isRunning(cli)) {
      const tail = cli.output().split('\n').slice(-8).join('\n').slice(-1500);
      observation.afterwards = `the process exited (code ${cli.child.exitCode}, signal ${cli.child.signalCode}); its last output:\n${tail}`;
      return observation;
    }
    if (options.memory === true) observation.peakGrowthBytes = Math.max(0, peakRssBytes(cli.pid) - before);
    if (ms >= options.giveUpMs) {
      this.stuck = true;
      observation.afterwards = `no answer within ${options.giveUpMs} ms; the server is replaced for the next test`;
      return observation;
    }
    const ready = await http(cli.port, 'GET', '/v2/health/ready');
    if (ready.status !== 200) observation.afterwards = `not ready afterwards: ${ready.status} ${ready.body.slice(0, 200)}`;
    return observation;
  }
}
