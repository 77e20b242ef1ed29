import { EventEmitter } from 'node:events';
import { Metadata, status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { CallOptions } from '../../../inference/call-options.interface';
import type { GrpcErrorAnswer } from './grpc-status.map';
import { InferStream, type StreamAnswerer } from './infer-stream';

/** The parts of a grpc-js server stream InferStream uses, recorded. */
class FakeCall extends EventEmitter {
  readonly metadata = new Metadata();
  cancelled = false;
  paused = false;
  ended = false;
  readonly written: Buffer[] = [];
  readonly pendingWrites: (() => void)[] = [];
  throwOnWrite: Error | null = null;
  getDeadline(): number {
    return Infinity;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  isPaused(): boolean {
    return this.paused;
  }
  write(out: Buffer, written: () => void): boolean {
    if (this.throwOnWrite !== null) throw this.throwOnWrite;
    this.written.push(out);
    this.pendingWrites.push(written);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  /** The connection took every answer written so far. */
  flush(): void {
    for (const done of this.pendingWrites.splice(0)) done();
  }
}

/** Answers each request with its own bytes once released (or at once), recording faults. */
class Answerer implements StreamAnswerer {
  readonly faults: unknown[] = [];
  readonly waiting: (() => void)[] = [];
  hold = false;
  reject: Error | null = null;

  async streamAnswer(bytes: Buffer, _options: CallOptions): Promise<Buffer> {
    if (this.hold) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.reject !== null) throw this.reject;
    return bytes;
  }
  streamFault(err: unknown): void {
    this.faults.push(err);
  }
  streamStatus(): GrpcErrorAnswer['error'] {
    return { code: status.INTERNAL, details: 'internal server error' };
  }
  releaseAll(): void {
    for (const go of this.waiting.splice(0)) go();
  }
}

const turn = () => new Promise((r) => setImmediate(r));

function open(maxInFlight = 4): { call: FakeCall; answerer: Answerer; statuses: unknown[] } {
  const call = new FakeCall();
  const answerer = new Answerer();
  const statuses: unknown[] = [];
  new InferStream(call as unknown as ServerDuplexStream<Buffer, Buffer>, answerer, maxInFlight).start();
  // grpc-js ends the call with the status of an 'error' event; record what it would send.
  call.on('error', (e) => statuses.push(e));
  return { call, answerer, statuses };
}

describe('InferStream', () => {
  let unhandled: unknown[];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('a write that throws ends the stream with a status and is logged once; no rejection escapes', async () => {
    const { call, answerer, statuses } = open();
    call.throwOnWrite = new Error('socket exploded');
    call.emit('data', Buffer.from('a'));
    await turn();
    await turn();
    expect(statuses).toEqual([{ code: status.INTERNAL, details: 'internal server error' }]);
    expect(answerer.faults).toEqual([call.throwOnWrite]);
    call.throwOnWrite = null;
    call.emit('data', Buffer.from('b')); // after the fault: ignored
    await turn();
    expect(call.written).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  it('an answerer that rejects (it should not) ends the stream the same way', async () => {
    const { call, answerer, statuses } = open();
    answerer.reject = new Error('bug in the answerer');
    call.emit('data', Buffer.from('a'));
    await turn();
    await turn();
    expect(statuses).toHaveLength(1);
    expect(answerer.faults).toEqual([answerer.reject]);
    expect(unhandled).toEqual([]);
  });

  it('writes nothing after the client cancelled, even for requests still running', async () => {
    const { call, answerer } = open();
    answerer.hold = true;
    call.emit('data', Buffer.from('a'));
    await turn();
    call.cancelled = true;
    call.emit('cancelled');
    answerer.releaseAll();
    await turn();
    await turn();
    call.emit('data', Buffer.from('late'));
    await turn();
    expect(call.written).toEqual([]);
    expect(call.ended).toBe(false);
    expect(unhandled).toEqual([]);
  });

  it('an answer counts against maxInFlight until the connection took it: a client that does not read stops the reading', async () => {
    const { call } = open(2);
    call.emit('data', Buffer.from('a'));
    call.emit('data', Buffer.from('b'));
    await turn();
    await turn();
    expect(call.written.map(String)).toEqual(['a', 'b']);
    expect(call.paused).toBe(true); // both answered, neither taken by the client
    call.flush();
    expect(call.paused).toBe(false);
  });

  it('ends OK once the client half-closed and every answer was taken', async () => {
    const { call } = open();
    call.emit('data', Buffer.from('a'));
    call.emit('end');
    await turn();
    await turn();
    expect(call.ended).toBe(false);
    call.flush();
    expect(call.ended).toBe(true);
  });
});
