import { Logger } from '@nestjs/common';
import { Subject, VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { EventSampler } from './event.sampler';
import type { InferenceEvent } from '../inference/inference-event.interface';
import type { MonitoringRecord, RecordFormatter } from './monitoring-record.interface';
import { RecordPipeline } from './record-pipeline';
import type { EncodedRecord } from './record.encoder';
import type { DropReason, PipeSettings } from './record-pipeline.interface';
import { SinkDeliveryError, type MonitoringSink } from './sinks/monitoring-sink.interface';

/** A sink under the test's control: it records each batch with the virtual time it was sent at. */
class FakeSink implements MonitoringSink {
  readonly name = 'fake';
  readonly target = 'fake://';
  maxInFlight = 1;
  available = true;
  closed = false;
  /** 'ok' delivers at once, 'hold' never settles (a hanging target), 'vanish' fails as the target goes away, an Error fails. */
  plan: ('ok' | 'hold' | 'vanish' | Error)[] = [];
  readonly sent: { at: number; bodies: string[] }[] = [];
  /** Whether the pipe may reuse a delivered batch's memory; the records are kept here either way. */
  forgetsSentBatches = false;
  readonly kept: MonitoringRecord[] = [];
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly clock: VirtualTimeScheduler) {}

  async init(): Promise<void> {}

  onAvailable(listener: () => void): void {
    this.listeners.push(listener);
  }

  setAvailable(available: boolean): void {
    this.available = available;
    if (available) for (const l of this.listeners) l();
  }

  send(batch: readonly MonitoringRecord[]): Promise<void> {
    this.sent.push({ at: this.clock.frame, bodies: batch.map((r) => r.body) });
    this.kept.push(...batch);
    const step = this.plan.shift() ?? 'ok';
    if (step === 'hold') return new Promise(() => undefined);
    if (step === 'vanish') {
      this.available = false;
      return Promise.reject(new Error('connection closed'));
    }
    return step === 'ok' ? Promise.resolve() : Promise.reject(step);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const formatter: RecordFormatter = { format: (e: InferenceEvent) => [{ body: e.id }] };
const ev = (id: string, status: 'ok' | 'error' = 'ok') => ({ id, model: 'm', status }) as InferenceEvent;
const SETTINGS: PipeSettings = {
  batchSize: 3,
  batchIntervalMs: 100,
  bufferSize: 100,
  bufferBytes: 1 << 20,
  dropPolicy: 'drop-oldest',
  retries: 3,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 250,
  flushTimeoutMs: 500,
};

/** Lets promise callbacks run (no time passes). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RecordPipeline', () => {
  let clock: VirtualTimeScheduler;
  let sink: FakeSink;
  let events: Subject<InferenceEvent>;
  let drops: [DropReason, number][];
  let sentCount: number;

  /** Moves virtual time forward by `ms`, running the timers due, and lets promises settle. */
  async function advance(ms: number): Promise<void> {
    const target = clock.frame + ms;
    for (;;) {
      clock.maxFrames = target;
      clock.flush();
      await settle();
      const next = clock.actions[0];
      if (next === undefined || next.delay > target) break;
    }
    clock.frame = target;
  }

  async function pipe(settings: Partial<PipeSettings> = {}, sampler = new EventSampler()): Promise<RecordPipeline> {
    const p = new RecordPipeline(sink, formatter, sampler, { ...SETTINGS, ...settings }, clock, {
      sent: (_sink, n) => (sentCount += n),
      dropped: (_sink, reason, n) => drops.push([reason, n]),
    });
    await p.start(events);
    return p;
  }

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    clock = new VirtualTimeScheduler(VirtualAction, Infinity);
    sink = new FakeSink(clock);
    events = new Subject();
    drops = [];
    sentCount = 0;
  });

  it('sends a batch once batchSize records wait, from a timer, never inside the emitting request', async () => {
    await pipe();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) events.next(ev(id));
    expect(sink.sent).toEqual([]); // emit only enqueues
    await advance(0);
    expect(sink.sent).toEqual([
      { at: 0, bodies: ['a', 'b', 'c'] },
      { at: 0, bodies: ['d', 'e', 'f'] },
    ]);
    expect(sentCount).toBe(6);
  });

  it('sends a partial batch once its oldest record has waited batchIntervalMs', async () => {
    await pipe();
    events.next(ev('a'));
    await advance(60);
    events.next(ev('b'));
    await advance(39);
    expect(sink.sent).toEqual([]);
    await advance(1);
    expect(sink.sent).toEqual([{ at: 100, bodies: ['a', 'b'] }]);
    events.next(ev('c'));
    await advance(99);
    expect(sink.sent).toHaveLength(1);
    await advance(1);
    expect(sink.sent[1]).toEqual({ at: 200, bodies: ['c'] });
  });

  it('keeps at most maxInFlight batches in flight; the rest wait in the buffer', async () => {
    await pipe();
    sink.plan = ['hold'];
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) events.next(ev(id));
    await advance(1000);
    expect(sink.sent).toEqual([{ at: 0, bodies: ['a', 'b', 'c'] }]);
  });

  it('bounds the buffer: drop-oldest keeps the newest records and counts the rest', async () => {
    const p = await pipe({ bufferSize: 4 });
    sink.plan = ['hold'];
    for (let i = 0; i < 3; i++) events.next(ev(`x${i}`));
    await advance(0); // x0-x2 in flight, forever
    for (let i = 0; i < 10; i++) events.next(ev(`y${i}`));
    expect(p.buffered).toBe(4);
    expect(drops).toEqual(Array(6).fill(['overflow', 1]));
    expect(p.stats).toEqual({ sent: 0, dropped: 6 });
  });

  it('drop-newest keeps the oldest records instead', async () => {
    sink.setAvailable(false);
    const p = await pipe({ bufferSize: 2, dropPolicy: 'drop-newest' });
    for (const id of ['a', 'b', 'c', 'd']) events.next(ev(id));
    sink.setAvailable(true);
    await advance(100);
    expect(sink.sent).toEqual([{ at: 100, bodies: ['a', 'b'] }]);
    expect(p.stats.dropped).toBe(2);
  });

  it('retries a failed batch with doubling back-off capped at retryBackoffMaxMs, then delivers it', async () => {
    await pipe();
    sink.plan = [new Error('503'), new Error('503'), new Error('503'), 'ok'];
    for (const id of ['a', 'b', 'c']) events.next(ev(id));
    await advance(1000);
    expect(sink.sent.map((s) => s.at)).toEqual([0, 100, 300, 550]);
    expect(sink.sent.every((s) => s.bodies.join() === 'a,b,c')).toBe(true);
    expect(sentCount).toBe(3);
    expect(drops).toEqual([]);
  });

  it('drops and counts a batch that fails every retry', async () => {
    const p = await pipe({ retries: 2 });
    sink.plan = [new Error('down'), new Error('down'), new Error('down')];
    for (const id of ['a', 'b', 'c']) events.next(ev(id));
    await advance(1000);
    expect(sink.sent).toHaveLength(3);
    expect(drops).toEqual([['failed', 3]]);
    expect(p.stats).toEqual({ sent: 0, dropped: 3 });
  });

  it('retries only what a partial delivery left, and drops what the target refused for good', async () => {
    await pipe();
    sink.plan = [new SinkDeliveryError('partial', [{ body: 'c' }], 1), 'ok'];
    for (const id of ['a', 'b', 'c']) events.next(ev(id));
    await advance(1000);
    expect(sink.sent.map((s) => s.bodies)).toEqual([['a', 'b', 'c'], ['c']]);
    expect(sentCount).toBe(2);
    expect(drops).toEqual([['rejected', 1]]);
  });

  it('while the sink is away records wait; a batch that failed because it went away goes back first', async () => {
    await pipe();
    sink.plan = ['vanish']; // it goes away while the batch is in flight
    for (const id of ['a', 'b', 'c']) events.next(ev(id));
    await advance(0);
    for (const id of ['d', 'e']) events.next(ev(id));
    await advance(10_000);
    expect(sink.sent).toHaveLength(1);
    sink.setAvailable(true);
    await advance(0);
    expect(sink.sent.slice(1).map((s) => s.bodies)).toEqual([['a', 'b', 'c'], ['d', 'e']]);
    expect(drops).toEqual([]);
  });

  it('records failures whatever the sampling, and samples successes', async () => {
    await pipe({ batchSize: 100 }, new EventSampler(2));
    for (let i = 0; i < 4; i++) events.next(ev(`ok${i}`));
    events.next(ev('bad', 'error'));
    await advance(100);
    expect(sink.sent[0].bodies).toEqual(['ok0', 'ok2', 'bad']);
  });

  it('a record that cannot be formatted is counted, and never reaches the request', async () => {
    const p = new RecordPipeline(sink, { format: () => { throw new Error('bad hook'); } }, new EventSampler(), SETTINGS, clock, {
      sent: () => undefined,
      dropped: (_s, reason, n) => drops.push([reason, n]),
    });
    await p.start(events);
    expect(() => events.next(ev('a'))).not.toThrow();
    expect(drops).toEqual([['unformattable', 1]]);
  });

  it('close sends what waits at once, then closes the sink', async () => {
    const p = await pipe({ batchSize: 10, batchIntervalMs: 10_000 });
    for (const id of ['a', 'b']) events.next(ev(id));
    await p.close();
    expect(sink.sent).toEqual([{ at: 0, bodies: ['a', 'b'] }]);
    expect(sink.closed).toBe(true);
    events.next(ev('late'));
    await advance(20_000);
    expect(sink.sent).toHaveLength(1);
  });

  it('close gives up after flushTimeoutMs on a sink that does not answer, counting what it drops', async () => {
    const p = await pipe({ batchSize: 2 });
    sink.plan = ['hold'];
    for (const id of ['a', 'b', 'c', 'd', 'e']) events.next(ev(id));
    await advance(0);
    let closed = false;
    const closing = p.close().then(() => (closed = true));
    await advance(499);
    expect(closed).toBe(false);
    await advance(1);
    await advance(1000); // the in-flight batch gets a last moment to settle
    await closing;
    expect(sink.closed).toBe(true);
    expect(drops).toEqual([['shutdown', 3]]);
  });

  describe('the memory of delivered records', () => {
    // About 5 MB of records: several of the encoder's 1 MB chunks.
    const ids = Array.from({ length: 5000 }, (_, i) => `r${i}-${'x'.repeat(1000)}`);
    async function sendAll(): Promise<void> {
      await pipe({ batchSize: 100, bufferSize: 10_000, bufferBytes: 64 << 20 });
      for (let i = 0; i < ids.length; i += 100) {
        for (const id of ids.slice(i, i + 100)) events.next(ev(id));
        await advance(0);
      }
      expect(sink.sent.flatMap((b) => b.bodies)).toEqual(ids);
    }
    const chunksUsed = () => new Set(sink.kept.map((r) => (r as EncodedRecord).bytes().buffer)).size;

    it('is reused once the sink has written them, when the sink says it forgets sent batches', async () => {
      sink.forgetsSentBatches = true;
      await sendAll();
      expect(chunksUsed()).toBeLessThanOrEqual(3);
    });

    it('is left to records a sink may keep: they stay intact', async () => {
      await sendAll();
      expect(chunksUsed()).toBeGreaterThanOrEqual(5);
      expect(sink.kept.map((r) => r.body)).toEqual(ids);
    });
  });

  it('completing the event stream (server shutdown) flushes too', async () => {
    await pipe({ batchIntervalMs: 10_000 });
    events.next(ev('a'));
    events.complete();
    await advance(0);
    expect(sink.sent).toEqual([{ at: 0, bodies: ['a'] }]);
    expect(sink.closed).toBe(true);
  });
});
