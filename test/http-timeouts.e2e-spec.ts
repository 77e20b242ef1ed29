import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createFastifyAdapter, ModelServerModule, type HttpTimeouts } from 'nest-model-server';
import { EchoFixture } from './fixtures/test-models';
import { TURN_BODY_BYTES } from '../libs/model-server/src/internal';

/**
 * The HTTP server's own defences, over real sockets: Node's refusals answered as `{"error"}` bodies, a request
 * that arrives too slowly cut off, and a client that stops reading its answer disconnected.
 */
async function listen(timeouts: HttpTimeouts, fastLane = true): Promise<{ app: NestFastifyApplication; port: number }> {
  const moduleRef = await Test.createTestingModule({ imports: [ModelServerModule.forRoot({ models: [{ name: 'echo', model: EchoFixture }] })] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter({ ...timeouts, fastLane }), { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, port: (app.getHttpServer().address() as AddressInfo).port };
}

/** Everything the server sends on a raw connection until it closes it (or `ms` pass). */
function readAll(socket: Socket, ms: number): Promise<{ text: string; closedAfterMs: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const done = () => resolve({ text, closedAfterMs: Date.now() - started });
    socket.once('close', done);
    setTimeout(() => {
      socket.destroy();
    }, ms).unref();
  });
}

function raw(port: number): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  return socket;
}

const errorBody = (text: string): { error: string } => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

describe.each([true, false])('HTTP timeouts and client errors (fast lane %s)', (fastLane) => {
  let app: NestFastifyApplication;
  let port: number;

  beforeAll(async () => {
    ({ app, port } = await listen({ receiveTimeoutMs: 1500, headersTimeoutMs: 1000, sendTimeoutMs: 3000 }, fastLane));
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers headers over the size limit with 431 and an {"error"} body', async () => {
    const socket = raw(port);
    socket.write(`GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    const { text } = await readAll(socket, 5000);
    expect(text.startsWith('HTTP/1.1 431')).toBe(true);
    expect(errorBody(text).error).toMatch(/headers are larger/);
  });

  it('answers malformed HTTP with 400 and an {"error"} body', async () => {
    const socket = raw(port);
    socket.write('BLAH\u0000 / HTTP/9\r\n\r\n');
    const { text } = await readAll(socket, 5000);
    expect(text.startsWith('HTTP/1.1 400')).toBe(true);
    expect(errorBody(text).error).toMatch(/malformed HTTP request/);
  });

  it('cuts off a body that trickles in slower than receiveTimeoutMs, with 408 naming the setting', async () => {
    const socket = raw(port);
    socket.write('POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    const trickle = setInterval(() => socket.writable && socket.write(' '), 200);
    try {
      const { text, closedAfterMs } = await readAll(socket, 10_000);
      expect(text.startsWith('HTTP/1.1 408')).toBe(true);
      expect(errorBody(text).error).toMatch(/receiveTimeoutMs/);
      expect(closedAfterMs).toBeLessThan(6000);
    } finally {
      clearInterval(trickle);
    }
  });

  it('cuts off headers that never finish', async () => {
    const socket = raw(port);
    socket.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n');
    const { text, closedAfterMs } = await readAll(socket, 10_000);
    expect(text.startsWith('HTTP/1.1 408')).toBe(true);
    expect(closedAfterMs).toBeLessThan(6000);
  });

  it('disconnects a client that stops reading a large answer, and keeps serving others', async () => {
    const n = 4 * 1024 * 1024; // a 4M-element echo: 8 MB of JSON answer, more than the socket buffers hold
    const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'UINT8', shape: [n], data: new Array(n).fill(7) }] });
    const socket = raw(port);
    socket.pause(); // read nothing for a while
    socket.write(`POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    socket.write(body);
    await new Promise((resolve) => setTimeout(resolve, 7000)); // sendTimeoutMs is 3 s
    let received = 0;
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.resume();
    const closed = await new Promise<boolean>((resolve) => {
      socket.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 10_000).unref();
    });
    expect(closed).toBe(true);
    expect(received).toBeLessThan(body.length); // cut off: the answer (as long as the body) never all arrived
    const live = raw(port);
    live.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect((await readAll(live, 5000)).text.startsWith('HTTP/1.1 200')).toBe(true);
  });

  it('leaves a client that reads slowly alone', async () => {
    const n = 4 * 1024 * 1024; // an 8 MB answer, read at about 2.5 MB/s: several sendTimeoutMs, never stalled for one
    const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'UINT8', shape: [n], data: new Array(n).fill(7) }] });
    const socket = raw(port);
    socket.write(`POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`);
    socket.write(body);
    const parts: Buffer[] = [];
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // About 256 KiB every 100 ms: the socket is paused once a tick's share has arrived.
    let share = 0;
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      share -= d.length;
      if (share <= 0) socket.pause();
    });
    socket.pause();
    const reader = setInterval(() => {
      share = 256 * 1024;
      socket.resume();
    }, 100);
    const started = Date.now();
    try {
      await ended;
    } finally {
      clearInterval(reader);
    }
    const text = Buffer.concat(parts).toString('latin1');
    expect(Date.now() - started).toBeGreaterThan(3000);
    expect(text.startsWith('HTTP/1.1 200')).toBe(true);
    expect(text.endsWith(']}]}')).toBe(true);
  }, 60_000);
});

describe('HTTP timeout options', () => {
  it('refuses a negative timeout at boot', () => {
    expect(() => createFastifyAdapter({ sendTimeoutMs: -1 })).toThrow(/sendTimeoutMs must be a non-negative integer/);
  });
});

describe.each([true, false])('large JSON bodies take turns (fast lane %s)', (fastLane) => {
  let app: NestFastifyApplication;
  let port: number;
  // About 1.4 MB of JSON: over the size at which text bodies take turns (checked below).
  const values = Array.from({ length: 500_000 }, (_, i) => (i % 7) / 2);
  const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [values.length], data: values }] });

  beforeAll(async () => {
    expect(Buffer.byteLength(body)).toBeGreaterThan(TURN_BODY_BYTES);
    // A receive timeout far beyond the test's: only the turn's own limit can let the others past a slow upload.
    ({ app, port } = await listen({ receiveTimeoutMs: 60_000, headersTimeoutMs: 10_000 }, fastLane));
  });

  afterAll(async () => {
    await app.close();
  });

  /** POSTs the large echo on a connection of its own: status and body. */
  function infer(): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const socket = raw(port);
      socket.write(
        `POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
      );
      socket.write(body);
      readAll(socket, 30_000).then(({ text }) => {
        const status = Number(text.slice(9, 12));
        resolve({ status, text: text.slice(text.indexOf('\r\n\r\n') + 4) });
      }, reject);
    });
  }

  it('answers concurrent large requests, each with its own data', async () => {
    const answers = await Promise.all([infer(), infer(), infer(), infer()]);
    for (const { status, text } of answers) {
      expect(status).toBe(200);
      // Compared as text: a deep comparison of 500,000 numbers costs the test seconds.
      expect(JSON.stringify((JSON.parse(text) as { outputs: { data: number[] }[] }).outputs[0].data)).toBe(JSON.stringify(values));
    }
  }, 60_000);

  it('lets others past a client that uploads its large body slowly once its turn is over', async () => {
    const slow = raw(port);
    slow.write(`POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n{"inputs":`);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const { status } = await infer();
    expect(status).toBe(200);
    // Its turn lasts 100 ms plus 1 ms per 50 KB (about 130 ms here); the slow upload would hold it 60 s.
    expect(Date.now() - started).toBeLessThan(10_000);
    slow.destroy();
  }, 60_000);
});
