import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { RequestTracer } from '../../tracing/request-tracer';
import { readAddressesOnConnect } from './http-server-span';

/** A tracer that is only asked whether it is on. */
const tracerOn = (on: boolean): RequestTracer => ({ on }) as RequestTracer;

describe('readAddressesOnConnect', () => {
  let server: Server;
  beforeEach(() => (server = createServer()));
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('adds nothing to the server while tracing is off', () => {
    readAddressesOnConnect(server, tracerOn(false));
    expect(server.listenerCount('connection')).toBe(1); // Node's own
  });

  it('adds one listener per server, however many transports ask, and each connection has its addresses when its first request arrives', async () => {
    readAddressesOnConnect(server, tracerOn(true));
    readAddressesOnConnect(server, tracerOn(true));
    expect(server.listenerCount('connection')).toBe(2);
    const opened = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = connect(port, '127.0.0.1');
    const socket = await opened;
    // Node keeps addresses it has read on the socket: read at connection time, they are there before any request.
    const kept = socket as unknown as { _peername?: { address: string }; _sockname?: { port: number } };
    expect([kept._peername?.address, kept._sockname?.port]).toEqual(['127.0.0.1', port]);
    client.destroy();
  });
});
