import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { ErrorCode, ModelServerError, queueFull } from '../../errors';
import { errorAnswer, statusErrorAnswer, writeAnswer, type HttpAnswer } from './http-answer';

describe('the HTTP error answer', () => {
  it("is the catalogue's status, the {\"error\"} body and the code's default Retry-After", () => {
    expect(errorAnswer(queueFull("'m'", 'batch queue', 2), false)).toEqual({
      status: 503,
      headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' },
      body: JSON.stringify({ error: "model 'm' is overloaded: 2 requests already wait in its batch queue (maxQueue); retry later" }),
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
