import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpSink } from './http.sink';
import { SinkDeliveryError } from './monitoring-sink.interface';

/** A local receiver that holds every request until the test answers it. */
async function receiver(): Promise<{ url: URL; held: [IncomingMessage, ServerResponse, string][]; close: () => Promise<void>; arrived: (n: number) => Promise<void> }> {
  const held: [IncomingMessage, ServerResponse, string][] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      held.push([req, res, body]);
      waiters.splice(0).forEach((w) => w());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(`http://user:p%40ss@127.0.0.1:${(server.address() as AddressInfo).port}/in`);
  return {
    url,
    held,
    arrived: async (n) => {
      while (held.length < n) await new Promise<void>((r) => waiters.push(r));
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('HttpSink', () => {
  it('keeps at most `concurrency` POSTs in flight, sends basic auth, and reports what was left', async () => {
    const rx = await receiver();
    const sink = new HttpSink(rx.url, { concurrency: 2, timeoutMs: 60_000 });
    expect(sink.target).toBe(`http://127.0.0.1:${rx.url.port}/in`);
    const records = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ body: `{"id":"${id}"}` }));
    const sending = sink.send(records).catch((err: unknown) => err);
    await rx.arrived(2);
    await new Promise((r) => setImmediate(r));
    expect(rx.held).toHaveLength(2); // the other three wait for a free slot
    expect(rx.held[0][0].headers.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    expect(rx.held[0][0].headers['content-type']).toBe('application/json');
    const status: Record<string, number> = { a: 202, b: 503, c: 400, d: 200, e: 204 };
    const answer = (i: number) => rx.held[i][1].writeHead(status[JSON.parse(rx.held[i][2]).id]).end();
    answer(0);
    answer(1);
    await rx.arrived(4);
    answer(2);
    answer(3);
    await rx.arrived(5);
    answer(4);
    const err = (await sending) as SinkDeliveryError;
    expect(err).toBeInstanceOf(SinkDeliveryError);
    expect(err.remaining.map((r) => r.body)).toEqual(['{"id":"b"}']); // 503: worth a retry
    expect(err.rejected).toBe(1); // 400: refused for good
    expect(err.message).toMatch(/HTTP 503/);
    await sink.close();
    await rx.close();
  });
});
