import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { ErrorCode, ModelServerError, queueFull } from '../../errors';
import { errorAnswer, routeAnswer, statusErrorAnswer, StreamedBody, writeAnswer, type HttpAnswer } from './http-answer';

describe('the HTTP error answer', () => {
  it("is the catalogue's status, the {\"error\"} body and the code's default Retry-After", () => {
    const error = queueFull("'m'", 'batch queue', 2);
    expect(errorAnswer(error, false)).toEqual({
      status: 503,
      headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' },
      body: JSON.stringify({ error: "model 'm' is overloaded: 2 requests already wait in its batch queue (maxQueue); retry later" }),
      // For the exception filters that name it (docs/nest.md); not sent.
      error,
    });
    expect(errorAnswer(new ModelServerError(ErrorCode.DeadlineExceeded, 'late'), false)).toMatchObject({ status: 504, headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(errorAnswer(new ModelServerError(ErrorCode.DeadlineExceeded, 'late'), false).headers['retry-after']).toBeUndefined();
  });

  it('hides an uncoded error unless debug is on', () => {
    expect(errorAnswer(new Error('secret'), false)).toMatchObject({ status: 500, body: '{"error":"internal server error"}' });
    expect(String(errorAnswer(new Error('secret'), true).body)).toMatch(/secret/);
  });

  it('has the same shape for a status the catalogue does not choose', () => {
    expect(statusErrorAnswer(431, 'headers too large')).toEqual({
      status: 431,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"error":"headers too large"}',
    });
  });
});

describe("a Fastify route's answer (routeAnswer)", () => {
  /** A Fastify app whose one route answers with what `answer()` gives, and whose error handler names the error. */
  async function app(answer: () => HttpAnswer | Promise<HttpAnswer>): Promise<FastifyInstance> {
    const fastify = Fastify();
    fastify.setErrorHandler((err: Error, _req, reply) => reply.code(500).send({ error: `handled: ${err.message}` }));
    fastify.get('/', (_req, reply) => routeAnswer(reply, answer()));
    await fastify.ready();
    return fastify;
  }
  const text = (status: number, body: string | readonly Uint8Array[]): HttpAnswer => ({ status, headers: { 'content-type': 'text/plain', 'x-answer': 'yes' }, body });

  it('sends an answer at once or once it settles, with its status, headers and body', async () => {
    const later = () => new Promise<HttpAnswer>((resolve) => setTimeout(() => resolve(text(202, 'later')), 5));
    for (const [answer, status, body] of [
      [() => text(201, 'now'), 201, 'now'],
      [later, 202, 'later'],
    ] as const) {
      const fastify = await app(answer);
      const res = await fastify.inject({ method: 'GET', url: '/' });
      expect([res.statusCode, res.headers['x-answer'], res.body]).toEqual([status, 'yes', body]);
      await fastify.close();
    }
  });

  it("sends a body in parts and a streamed body whole, once the promise settles", async () => {
    const parts = [Buffer.from('one,'), Buffer.from('two')];
    const streamed: HttpAnswer = {
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: new StreamedBody(async (res) => {
        res.write('a');
        await new Promise((resolve) => setTimeout(resolve, 5));
        res.end('b');
      }),
    };
    for (const [answer, body] of [
      [text(200, parts), 'one,two'],
      [streamed, 'ab'],
    ] as const) {
      const fastify = await app(() => Promise.resolve(answer));
      const res = await fastify.inject({ method: 'GET', url: '/' });
      expect([res.statusCode, res.body]).toEqual([200, body]);
      await fastify.close();
    }
  });

  it("hands a rejected answer to the route's error handler, a thrown value as an error too", async () => {
    for (const [reason, message] of [
      [new Error('boom'), 'handled: boom'],
      ['plain', 'handled: plain'],
    ] as const) {
      const fastify = await app(() => Promise.reject(reason));
      const res = await fastify.inject({ method: 'GET', url: '/' });
      expect([res.statusCode, res.json()]).toEqual([500, { error: message }]);
      await fastify.close();
    }
  });
});

describe('writing a large answer on a raw Node response', () => {
  /** A loopback server answering every request with `answer`, counting the writes on its response. */
  async function serve(answer: () => HttpAnswer): Promise<{ port: number; writes: () => number; close: () => Promise<void> }> {
    let writes = 0;
    const server = createServer((_req, res) => {
      const write = res.write.bind(res) as (chunk: Uint8Array) => boolean;
      res.write = ((chunk: Uint8Array) => {
        writes++;
        return write(chunk);
      }) as typeof res.write;
      writeAnswer(res, answer());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, writes: () => writes, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

  it('arrives whole and byte for byte, parts or one block, with its Content-Length', async () => {
    const parts = [bytes(300_000, 1), bytes(10, 2), bytes(700_000, 3)];
    const block = bytes(600_000, 4);
    for (const body of [parts, block]) {
      const server = await serve(() => ({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body }));
      try {
        const res = await fetch(`http://127.0.0.1:${server.port}/`);
        const got = Buffer.from(await res.arrayBuffer());
        const expected = Buffer.concat(Array.isArray(body) ? body : [body]);
        expect(res.headers.get('content-length')).toBe(String(expected.length));
        expect(got.equals(expected)).toBe(true);
      } finally {
        await server.close();
      }
    }
  });

  it('is handed to the socket a piece at a time: a client that does not read holds the rest back', async () => {
    // 64 MiB is 256 pieces of 256 KiB: more than the kernel's socket buffers take (their autotuned maximum is a few MiB
    // to send and up to 32 MiB to receive on Linux), so with nobody reading some pieces must wait.
    const size = 64 << 20;
    const pieces = size / (256 << 10);
    const body = [new Uint8Array(size)];
    const server = await serve(() => ({ status: 200, headers: {}, body }));
    const socket = connect(server.port, '127.0.0.1');
    try {
      socket.pause();
      socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
      await new Promise((r) => setTimeout(r, 300));
      expect(server.writes()).toBeGreaterThan(0);
      expect(server.writes()).toBeLessThan(pieces);
      let received = 0;
      socket.on('data', (d: Buffer) => (received += d.length));
      socket.resume();
      await new Promise((resolve) => socket.on('end', resolve));
      expect(server.writes()).toBe(pieces);
      expect(received).toBeGreaterThan(size);
    } finally {
      socket.destroy();
      await server.close();
    }
  });
});
