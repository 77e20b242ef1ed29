import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status, type StatusObject } from '@grpc/grpc-js';
import { http, startCli, stopCli, type CliProcess } from './helpers/cli-process';
import { InferenceClient, type Message } from './helpers/grpc-client';

/**
 * Backpressure end to end, against the real CLI process over loopback: a client that stops reading a stream
 * (SSE generate_stream on a raw socket, gRPC decoupled ModelStreamInfer with grpc-js) pauses the model, which
 * then has produced no more parts than the buffers between it and the client hold; once the client reads
 * again, the stream resumes and completes. The model (test/fixtures/stream-models.ts) never waits between
 * parts and counts what it produced, so nothing but backpressure holds it back: a server that buffered parts
 * for a slow client would let it produce every part at once.
 *
 * Each bound was checked to fail without backpressure: with `streamBufferChunks: 1024` in this file's config (the
 * stream reads that far ahead of its transport), with the writers not waiting for 'drain' (SSE: events written
 * only at the end of the turn; gRPC: writes not checked), the model produced all PARTS parts.
 */

/** Parts the stream may produce ahead of its transport (the config below); the default is 2. */
const BUFFER_CHUNKS = 2;
/** The parts a stream is asked for: far more than every buffer on the way holds. */
const PARTS = 120;

interface KernelQueues {
  /** Bytes the server's socket has not sent yet (its send queue). */
  serverUnsent: number;
  /** Bytes the client's socket received that the client has not read (its receive queue). */
  clientUnread: number;
}

/**
 * The kernel's queues of one loopback TCP connection, from /proc/net/tcp (Linux): the client's socket is the
 * one whose local port is `clientPort`, the server's the one whose remote port is.
 */
function kernelQueues(clientPort: number): KernelQueues {
  const port = clientPort.toString(16).toUpperCase().padStart(4, '0');
  const queues: KernelQueues = { serverUnsent: 0, clientUnread: 0 };
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const [tx, rx] = f[4].split(':').map((h) => parseInt(h, 16));
    if (f[1].endsWith(`:${port}`)) queues.clientUnread += rx;
    else if (f[2].endsWith(`:${port}`)) queues.serverUnsent += tx;
  }
  return queues;
}

/** The parts the flood model produced so far for a request id. */
async function produced(port: number, model: string, id: string): Promise<number> {
  const answer = await http(port, 'POST', `/v2/models/${model}/produced`, JSON.stringify({ id }));
  if (answer.status !== 200) throw new Error(`produced: ${answer.status} ${answer.body}`);
  return (JSON.parse(answer.body) as { produced: number }).produced;
}

/** Waits until the count stops moving (the same over `quietMs`), then answers it. */
async function settled(count: () => Promise<number>, quietMs = 600, timeoutMs = 20000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let last = await count();
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const now = await count();
    if (now === last || Date.now() > end) return now;
    last = now;
  }
}

async function until(what: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('backpressure of streams whose client stops reading (real process)', () => {
  let dir: string;
  let cli: CliProcess;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nms-backpressure-'));
    const config = join(dir, 'models.yaml');
    writeFileSync(
      config,
      [
        `streamBufferChunks: ${BUFFER_CHUNKS}`,
        'models:',
        '  - name: flood',
        `    module: ${join(__dirname, 'fixtures', 'stream-models')}`,
        '    class: FloodModel',
        '',
      ].join('\n'),
    );
    cli = await startCli(['--config', config], { LOG_LEVEL: 'warn' }, 60000);
  }, 70000);
  afterAll(async () => {
    await stopCli(cli);
    rmSync(dir, { recursive: true, force: true });
  });

  it('SSE generate_stream: a raw socket that stops reading after the headers pauses the model; reading again completes the stream', async () => {
    const KB = 256;
    const partBytes = KB * 1024;
    const body = JSON.stringify({ id: 'sse-1', text_input: 'go', parameters: { parts: PARTS, kb: KB } });
    const socket: Socket = connect({ host: '127.0.0.1', port: cli.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const received: Buffer[] = [];
    let ended = false;
    socket.on('end', () => (ended = true));
    // Read until the answer's head arrived, then stop reading: the kernel's buffers fill and the server's
    // writes find the connection full.
    const head = new Promise<string>((resolve) => {
      const onData = (chunk: Buffer): void => {
        received.push(chunk);
        const bytes = Buffer.concat(received);
        const at = bytes.indexOf('\r\n\r\n');
        if (at === -1) return;
        socket.pause();
        socket.off('data', onData);
        resolve(bytes.toString('latin1', 0, at));
      };
      socket.on('data', onData);
    });
    socket.write(
      `POST /v2/models/flood/generate_stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(await head).toMatch(/^HTTP\/1\.1 200 /);

    const count = await settled(() => produced(cli.port, 'flood', 'sse-1'));
    // What can be on the way without backpressure failing: the parts in the kernel's two socket queues (measured),
    // one in Node's buffer of the response past its high-water mark, one the writer holds while it waits for
    // 'drain', one the model is producing, the stream's read-ahead, and the part whose bytes straddle the queues.
    const queues = kernelQueues(socket.localPort!);
    const inKernel = Math.ceil((queues.serverUnsent + queues.clientUnread) / partBytes);
    const bound = inKernel + BUFFER_CHUNKS + 4;
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThanOrEqual(bound);
    expect(bound).toBeLessThan(PARTS / 2); // the bound leaves most of the stream unproduced: the test can fail

    // The client reads again: every part arrives and the answer ends.
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.resume();
    await until(() => ended, 30000);
    const text = Buffer.concat(received).toString('latin1');
    expect(text.match(/data: /g)?.length).toBe(PARTS);
    expect(text.endsWith('0\r\n\r\n')).toBe(true);
    expect(await produced(cli.port, 'flood', 'sse-1')).toBe(PARTS);
    socket.destroy();
  }, 60000);

  it('gRPC ModelStreamInfer (decoupled): a grpc-js client that stops consuming pauses the model; consuming again completes the stream', async () => {
    const KB = 64;
    const client = new InferenceClient(cli.grpcPort);
    try {
      const stream = client.stream();
      stream.on('error', () => undefined); // the status says how it ended
      // The client takes the first response, then stops consuming. (A grpc-js stream paused before its first
      // read buffers whatever arrives without limit: the client, not the server, would not hold back.) Once its
      // stream's buffer is full, grpc-js leaves the messages in HTTP/2, whose flow control holds the server.
      const answers: Message[] = [];
      stream.on('data', (m: Message) => {
        answers.push(m);
        if (answers.length === 1) stream.pause();
      });
      const ended = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
      stream.write({
        model_name: 'flood',
        id: 'grpc-1',
        parameters: { parts: { int64_param: PARTS }, kb: { int64_param: KB } },
        inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('go')] } }],
      });
      stream.end();
      const count = await settled(() => produced(cli.port, 'flood', 'grpc-1'));
      // What can be on the way, in messages: the one the client took and its stream's buffer (grpc-js, object
      // mode: 16), the HTTP/2 windows (64 KiB for the stream: two messages at most), the server call's write
      // buffer (grpc-js, object mode: 16), one the writer holds while it waits for 'drain', one the model is
      // producing, and the stream's read-ahead.
      const bound = 1 + 16 + 2 + 16 + 1 + 1 + BUFFER_CHUNKS;
      expect(answers).toHaveLength(1);
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThanOrEqual(bound);
      expect(bound).toBeLessThan(PARTS / 2);

      stream.resume();
      expect((await ended).code).toBe(status.OK);
      expect(answers).toHaveLength(PARTS);
      expect(answers.every((a) => a.error_message === '' && a.infer_response.outputs[0].contents.bytes_contents[0].length === KB * 1024)).toBe(true);
      expect(await produced(cli.port, 'flood', 'grpc-1')).toBe(PARTS);
    } finally {
      client.close();
    }
  }, 60000);
});
