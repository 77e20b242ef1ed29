import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { explainSizeStatus, messageLimitInterceptor, readMessagesAsTheyArrive } from './message-limit.interceptor';

const PORT = 19310;
const LIMIT = 4 * 1024 * 1024;
const bytes = (b: Buffer): Buffer => b;

/** A grpc-js server on 127.0.0.1:{@link PORT} with one raw-bytes unary method that answers the length it received. */
async function startServer(interceptor: grpc.ServerInterceptor): Promise<grpc.Server> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': LIMIT, interceptors: [interceptor] });
  const method = { path: '/t.T/Echo', requestStream: false, responseStream: false, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes };
  server.addService({ Echo: method }, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => done(null, Buffer.from(call.request)),
  });
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${PORT}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return server;
}

/** One call with `message` (gzip-compressed when `gzip`); the answer or the status. */
function echo(message: Buffer, gzip = false): Promise<{ code: number; details: string; answer?: Buffer }> {
  const client = new grpc.Client(`127.0.0.1:${PORT}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': -1,
    ...(gzip ? { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip } : {}),
  });
  return new Promise((resolve) => {
    client.makeUnaryRequest('/t.T/Echo', bytes, bytes, message, (err, answer) => {
      client.close();
      resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: '', answer });
    });
  });
}

describe('messageLimitInterceptor on a real grpc-js server', () => {
  let server: grpc.Server | undefined;
  afterEach(() => server?.forceShutdown());

  it("reads the call's messages with its own reader and inflater (grpc-js still has the members they replace): messages of many frames arrive whole", async () => {
    const replaced: boolean[] = [];
    server = await startServer((_method, call) => {
      replaced.push(readMessagesAsTheyArrive(call, LIMIT));
      return call as unknown as grpc.ServerInterceptingCall;
    });
    const message = Buffer.alloc(LIMIT);
    for (let i = 0; i < message.length; i += 4) message.writeUInt32LE(i, i);
    const a = await echo(message);
    expect(a.code).toBe(status.OK);
    expect(a.answer!.equals(message)).toBe(true);
    const z = await echo(message, true);
    expect(z.code).toBe(status.OK);
    expect(z.answer!.equals(message)).toBe(true);
    expect(replaced).toEqual([true, true]);
  });

  it('refuses a message over the receive limit naming the setting to raise', async () => {
    server = await startServer(messageLimitInterceptor(LIMIT));
    const a = await echo(Buffer.alloc(LIMIT + 1));
    expect(a.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(a.details).toMatch(new RegExp(`^the request message is ${LIMIT + 1} bytes, over the server's limit of ${LIMIT} bytes: raise maxReceiveMessageBytes`));
    const inflated = await echo(Buffer.alloc(LIMIT + 1), true);
    expect(inflated.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(inflated.details).toMatch(new RegExp(`^the request message inflates to more than the server's limit of ${LIMIT} bytes: raise maxReceiveMessageBytes`));
    expect((await echo(Buffer.from('small'))).answer).toEqual(Buffer.from('small'));
  });
});

describe('message size statuses', () => {
  it('names the receive setting for grpc-js receive limits', () => {
    const s = explainSizeStatus({ code: status.RESOURCE_EXHAUSTED, details: 'Received message larger than max (70000 vs 65536)' });
    expect(s.details).toMatch(/^the request message is 70000 bytes, over the server's limit of 65536 bytes: raise maxReceiveMessageBytes/);
    const inflated = explainSizeStatus({ code: status.RESOURCE_EXHAUSTED, details: 'Received message that decompresses to a size larger than 1024' });
    expect(inflated.details).toMatch(/inflates to more than the server's limit of 1024 bytes: raise maxReceiveMessageBytes/);
  });

  it('names the send setting for grpc-js send limits (without its 5-byte frame header)', () => {
    const s = explainSizeStatus({ code: status.RESOURCE_EXHAUSTED, details: 'Sent message larger than max (70005 vs. 65536)' });
    expect(s.details).toMatch(/^the response message is 70000 bytes, over the server's limit of 65536 bytes: raise maxSendMessageBytes/);
  });

  it('leaves other statuses alone', () => {
    const other = { code: status.RESOURCE_EXHAUSTED, details: 'quota' };
    expect(explainSizeStatus(other)).toBe(other);
    const ok = { code: status.OK, details: 'Received message larger than max (1 vs 0)' };
    expect(explainSizeStatus(ok)).toBe(ok);
  });
});
