import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EchoFixture } from './fixtures/test-models';
import { createApp } from './helpers/test-app';

/**
 * A request answered before its body was read (over the body limit, refused credentials) over a raw socket:
 * the client must get the answer while it is still sending, not a reset connection, and the server must not
 * read an upload for ever.
 */
const LIMIT = 2048;
const MiB = 1024 * 1024;

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP/1.1 client: sends bytes as the test says, and parses the answers as they come. */
class RawClient {
  readonly socket: Socket;
  readonly closed: Promise<number>;
  private buffered = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve: (answer: RawAnswer) => void; reject: (err: Error) => void }> = [];
  private readonly answers: RawAnswer[] = [];

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve(Date.now())));
    this.socket.once('close', () => this.waiting.splice(0).forEach((w) => w.reject(new Error('the connection closed before the answer'))));
    this.socket.on('error', () => undefined); // a write after the server closed: the test checks `written`
  }

  /** Writes `bytes` in 256 KiB pieces, each acknowledged; rejects with the socket's error. */
  async written(bytes: number): Promise<void> {
    const piece = Buffer.alloc(256 * 1024, 0x20);
    for (let left = bytes; left > 0; left -= piece.length) {
      await new Promise<void>((resolve, reject) => this.socket.write(left >= piece.length ? piece : piece.subarray(0, left), (err) => (err ? reject(err) : resolve())));
    }
  }

  write(text: string): void {
    this.socket.write(text);
  }

  next(): Promise<RawAnswer> {
    const ready = this.answers.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.socket.destroyed) return Promise.reject(new Error('the connection is closed'));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private parse(): void {
    for (;;) {
      const end = this.buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [statusLine, ...lines] = this.buffered.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      const length = Number(headers['content-length'] ?? 0);
      if (this.buffered.length < end + 4 + length) return;
      const answer = { status: Number(statusLine.split(' ')[1]), headers, body: this.buffered.subarray(end + 4, end + 4 + length).toString('utf8') };
      this.buffered = this.buffered.subarray(end + 4 + length);
      const waiter = this.waiting.shift();
      if (waiter !== undefined) waiter.resolve(answer);
      else this.answers.push(answer);
    }
  }
}

const head = (headers: string) => `POST /v2/models/echo/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${headers}\r\n`;

describe('answers sent before the request body was read', () => {
  let app: NestFastifyApplication;
  let port: number;
  const clients: RawClient[] = [];
  const client = () => {
    const c = new RawClient(port);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    app = await createApp({ models: [{ name: 'echo', model: EchoFixture }], maxBodyBytes: LIMIT, auth: { tokens: ['secret-token-1'] } });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterEach(() => clients.splice(0).forEach((c) => c.socket.destroy()));
  afterAll(() => app.close());

  it('an over-limit Content-Length: the 413 comes while the client sends, and the connection serves the next request', async () => {
    const c = client();
    c.write(head(`Authorization: Bearer secret-token-1\r\nContent-Length: ${4 * MiB}\r\n`));
    await c.written(64 * 1024);
    const answer = await c.next();
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error).toMatch(/larger than 2048 bytes/);
    // The server reads on: the rest of the upload (more than any socket buffer holds) is accepted.
    await c.written(4 * MiB - 64 * 1024);
    c.write('GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect((await c.next()).status).toBe(200);
  });

  it('many early answers on one keep-alive connection leave no listener behind', async () => {
    const sockets: Socket[] = [];
    const onConnection = (socket: Socket) => sockets.push(socket);
    app.getHttpServer().on('connection', onConnection);
    try {
      const c = client();
      const earlyAnswer = async () => {
        c.write(head(`Authorization: Bearer secret-token-1\r\nContent-Length: ${LIMIT * 2}\r\n`));
        await c.written(LIMIT);
        expect((await c.next()).status).toBe(413);
        await c.written(LIMIT);
      };
      await earlyAnswer();
      c.write('GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      expect((await c.next()).status).toBe(200);
      expect(sockets).toHaveLength(1);
      const after1 = sockets[0].listenerCount('close');
      for (let i = 0; i < 15; i++) await earlyAnswer();
      c.write('GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      expect((await c.next()).status).toBe(200);
      expect(sockets[0].listenerCount('close')).toBe(after1);
    } finally {
      app.getHttpServer().off('connection', onConnection);
    }
  });

  it('an over-limit chunked upload: the 413 comes, and the connection serves the next request after the last chunk', async () => {
    const c = client();
    c.write(head('Authorization: Bearer secret-token-1\r\nTransfer-Encoding: chunked\r\n'));
    const chunk = `${(64 * 1024).toString(16)}\r\n${' '.repeat(64 * 1024)}\r\n`;
    c.write(chunk);
    const answer = await c.next();
    expect(answer.status).toBe(413);
    for (let i = 0; i < 32; i++) c.write(chunk);
    c.write('0\r\n\r\n');
    c.write('GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect((await c.next()).status).toBe(200);
  });

  it('refused credentials: the 401 comes while the client sends, and the upload is still accepted', async () => {
    const c = client();
    c.write(head(`Content-Length: ${4 * MiB}\r\n`));
    await c.written(64 * 1024);
    expect((await c.next()).status).toBe(401);
    await c.written(4 * MiB - 64 * 1024);
    c.write('GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect((await c.next()).status).toBe(200);
  });

  it('a client that stops sending after the answer is disconnected a few seconds later', async () => {
    const c = client();
    const start = Date.now();
    c.write(head(`Authorization: Bearer secret-token-1\r\nContent-Length: ${4 * MiB}\r\n`));
    await c.written(64 * 1024);
    expect((await c.next()).status).toBe(413);
    const closedAt = await c.closed;
    // Timers fire late on a busy machine, never early: the lower bound is exact, the upper one generous.
    expect(closedAt - start).toBeGreaterThanOrEqual(5000 - 50);
    expect(closedAt - start).toBeLessThan(20000);
  }, 30000);
});
