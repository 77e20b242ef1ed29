import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestByteBudget } from '../../../inference/request-byte-budget';
import { BUDGETED_BODY_BYTES, holdBodyBytes } from './body-hold.util';

/** A real response on loopback, handed over once its request's body arrived; `abort`: the client goes away first. */
async function withResponse(abort: boolean, use: (res: ServerResponse) => Promise<void>): Promise<void> {
  let server: Server | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const ready = abort ? new Promise<void>((r) => res.once('close', () => r())) : Promise.resolve();
          void ready.then(() => use(res)).then(resolve, reject);
        });
      }).listen(0, '127.0.0.1', () => {
        const client = request({ port: (server!.address() as AddressInfo).port, method: 'POST' }, (answer) => answer.resume());
        client.on('error', () => undefined);
        client.end('x', () => {
          if (abort) setTimeout(() => client.destroy(), 20);
        });
      });
    });
  } finally {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  }
}

describe('holdBodyBytes', () => {
  it('gives the bytes back when the answer is sent', async () => {
    const budget = new RequestByteBudget(1 << 20);
    await withResponse(false, async (res) => {
      holdBodyBytes(budget, BUDGETED_BODY_BYTES, res);
      expect(budget.inUse).toBe(BUDGETED_BODY_BYTES);
      await new Promise<void>((r) => res.end('ok', () => r()));
      await new Promise((r) => setImmediate(r));
    });
    expect(budget.inUse).toBe(0);
  });

  it('holds nothing for a client that went away before its body was decoded', async () => {
    const budget = new RequestByteBudget(1 << 20);
    await withResponse(true, async (res) => {
      holdBodyBytes(budget, BUDGETED_BODY_BYTES, res);
      await new Promise((r) => setTimeout(r, 20));
      expect(budget.inUse).toBe(0);
    });
  });

  it('does not count small bodies', async () => {
    const budget = new RequestByteBudget(1 << 20);
    await withResponse(false, async (res) => {
      holdBodyBytes(budget, BUDGETED_BODY_BYTES - 1, res);
      expect(budget.inUse).toBe(0);
      res.end();
    });
  });
});
