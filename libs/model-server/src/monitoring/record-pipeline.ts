import { Logger } from '@nestjs/common';
import { asyncScheduler, filter, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { EventSampler } from './event.sampler';
import type { InferenceEvent } from '../inference/inference-event.interface';
import type { DropReason, PipeObserver, PipeSettings } from './record-pipeline.interface';
import type { MonitoringRecord, RecordFormatter } from './monitoring-record.interface';
import { RecordEncoder } from './record.encoder';
import { RecordQueue } from './record.queue';
import { SinkDeliveryError, type MonitoringSink } from './sinks/monitoring-sink.interface';

const NO_OBSERVER: PipeObserver = { sent: () => undefined, dropped: () => undefined };

/**
 * The record pipeline (not a Nest pipe): inference events → sampling (rxjs `filter`) → records → a bounded buffer → batches,
 * released when `batchSize` records wait or the oldest has waited `batchIntervalMs` → the sink, at most
 * `maxInFlight` batches at once. Records wait as UTF-8 bytes (`EncodedRecord`). A failed batch is retried
 * with doubling back-off; if the sink went away (e.g. Redis disconnected) its records go back to the buffer
 * and wait for it. Whatever the buffer cannot hold is dropped by its policy and counted. Nothing here ever
 * blocks or fails the request that emitted the event: the subscriber only formats, encodes and enqueues.
 * {@link close} flushes what is left, within a time limit.
 *
 * @publicApi
 */
export class RecordPipeline {
  private readonly queue: RecordQueue;
  private readonly encoder = new RecordEncoder();
  private readonly logger = new Logger('Monitoring');
  private subscription: Subscription | null = null;
  private timer: Subscription | null = null;
  private soon: Subscription | null = null;
  private readonly retrying = new Map<Subscription, readonly MonitoringRecord[]>();
  private inFlight = 0;
  /** The oldest waiting record has waited the batch interval: send whatever waits. */
  private due = false;
  private draining = false;
  private abandoned = false;
  private closing: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Deliveries not settled yet, so shutdown can count what they carried. */
  private readonly sending = new Set<Promise<void>>();
  /** Set while deliveries fail, to log an outage once and its end once. */
  private outage: { droppedAtStart: number } | null = null;
  private readonly counts = { sent: 0, dropped: 0 };
  private formatFailed = false;

  constructor(
    private readonly sink: MonitoringSink,
    private readonly formatter: RecordFormatter,
    private readonly sampler: EventSampler,
    private readonly settings: PipeSettings,
    private readonly scheduler: SchedulerLike = asyncScheduler,
    private readonly observer: PipeObserver = NO_OBSERVER,
  ) {
    this.queue = new RecordQueue(settings.bufferSize, settings.bufferBytes, settings.dropPolicy);
  }

  /** Records waiting in the buffer now. */
  get buffered(): number {
    return this.queue.size;
  }

  /** Records delivered and dropped so far. */
  get stats(): { sent: number; dropped: number } {
    return { ...this.counts };
  }

  /** The sink's name (`file`, `stdout`, `redis`, `http`...). */
  get sinkName(): string {
    return this.sink.name;
  }

  /** Subscribes to `events$` (records queue from now on) and opens the sink; rejects if the sink cannot open. */
  async start(events$: Observable<InferenceEvent>): Promise<void> {
    this.sink.onAvailable(this.pump);
    // Events the format writes no record for go before sampling (they take no sample's place); without either,
    // every event is kept: no filter stage to pass through.
    const logs = this.formatter.logs?.bind(this.formatter);
    const written = logs === undefined ? events$ : events$.pipe(filter(logs));
    const kept = this.sampler.info === undefined ? written : written.pipe(filter(this.sampler.accept));
    this.subscription = kept.subscribe({ next: this.onEvent, complete: () => void this.close() });
    try {
      await this.sink.init();
    } catch (err) {
      this.subscription.unsubscribe();
      throw err;
    }
    this.pump();
  }

  /**
   * Stops taking events, sends what waits (retries included) and closes the sink. Records still waiting after
   * `flushTimeoutMs` are dropped and counted. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private readonly onEvent = (event: InferenceEvent): void => {
    let records: MonitoringRecord[];
    try {
      records = this.formatter.format(event);
    } catch (err) {
      if (!this.formatFailed) {
        this.formatFailed = true;
        this.logger.warn(`a monitoring record for model '${event.model}' could not be written (said once): ${err instanceof Error ? err.message : String(err)}`);
      }
      this.drop('unformattable', 1);
      return;
    }
    for (let i = 0; i < records.length; i++) {
      // Encoded now, while the text is fresh: what waits is bytes, not string pieces (record.encoder.ts).
      const dropped = this.queue.push(this.encoder.encode(records[i]));
      if (dropped > 0) this.drop('overflow', dropped);
    }
    if (this.queue.size >= this.settings.batchSize) {
      // A full batch: send it from a timer callback, never inside the request that emitted the event.
      if (this.soon === null && this.inFlight < this.sink.maxInFlight) this.soon = this.scheduler.schedule(this.pumpSoon, 0);
    } else if (this.timer === null && !this.due) {
      this.timer = this.scheduler.schedule(this.onInterval, this.settings.batchIntervalMs);
    }
  };

  private readonly pumpSoon = (): void => {
    this.soon = null;
    this.pump();
  };

  private readonly onInterval = (): void => {
    this.timer = null;
    this.due = true;
    this.pump();
  };

  /** Sends batches while a slot is free, the sink is there, and a batch is full or due. */
  private readonly pump = (): void => {
    const { batchSize } = this.settings;
    while (this.inFlight < this.sink.maxInFlight && this.queue.size > 0 && this.sink.available && !this.abandoned) {
      if (this.queue.size < batchSize && !this.due && !this.draining) break;
      this.dispatch(this.queue.take(batchSize), 0);
    }
    if (this.queue.size === 0) {
      this.due = false;
      this.timer?.unsubscribe();
      this.timer = null;
    } else if (this.timer === null && !this.due && !this.draining) {
      this.timer = this.scheduler.schedule(this.onInterval, this.settings.batchIntervalMs);
    }
    this.checkIdle();
  };

  private dispatch(batch: readonly MonitoringRecord[], attempt: number): void {
    this.inFlight++;
    let sending: Promise<void>;
    try {
      sending = this.sink.send(batch);
    } catch (err) {
      sending = Promise.reject(err);
    }
    const settled = sending
      .then(
        () => this.onDelivered(batch),
        (err: unknown) => this.onFailed(batch, err, attempt),
      )
      .catch((err: unknown) => this.logger.error(`monitoring pipe fault: ${err instanceof Error ? err.stack : String(err)}`));
    this.sending.add(settled);
    void settled.finally(() => this.sending.delete(settled));
  }

  private onDelivered(batch: readonly MonitoringRecord[]): void {
    this.inFlight--;
    if (this.sink.forgetsSentBatches === true) this.encoder.release(batch);
    this.delivered(batch.length);
    if (this.outage !== null) {
      this.logger.log(`monitoring sink ${this.sink.name} (${this.sink.target}) delivers again; ${this.counts.dropped - this.outage.droppedAtStart} record(s) were dropped meanwhile`);
      this.outage = null;
    }
    this.pump();
  }

  private onFailed(batch: readonly MonitoringRecord[], err: unknown, attempt: number): void {
    this.inFlight--;
    const partial = err instanceof SinkDeliveryError ? err : null;
    const remaining = partial?.remaining ?? batch;
    const rejected = partial?.rejected ?? 0;
    const done = batch.length - remaining.length - rejected;
    if (done > 0) this.delivered(done);
    if (rejected > 0) this.drop('rejected', rejected);
    if (this.outage === null && remaining.length + rejected > 0) {
      this.outage = { droppedAtStart: this.counts.dropped - rejected };
      this.logger.warn(
        `monitoring sink ${this.sink.name} (${this.sink.target}) failed: ${err instanceof Error ? err.message : String(err)}; ` +
          `records wait in the buffer (at most ${this.settings.bufferSize}) and are dropped beyond it`,
      );
    }
    if (remaining.length > 0) {
      if (this.abandoned) {
        this.drop('shutdown', remaining.length);
      } else if (!this.sink.available) {
        // The target is away: the records wait for it with the others (the sink calls pump when it is back).
        const dropped = this.queue.unshift(remaining);
        if (dropped > 0) this.drop('overflow', dropped);
        this.due = true;
      } else if (attempt >= this.settings.retries) {
        this.drop('failed', remaining.length);
      } else {
        this.inFlight++; // the batch keeps its slot while it waits
        const delay = Math.min(this.settings.retryBackoffMs * 2 ** attempt, this.settings.retryBackoffMaxMs);
        const retry: Subscription = this.scheduler.schedule(() => {
          this.retrying.delete(retry);
          this.inFlight--;
          this.dispatch(remaining, attempt + 1);
        }, delay);
        this.retrying.set(retry, remaining);
        return;
      }
    }
    this.pump();
  }

  private async drain(): Promise<void> {
    this.subscription?.unsubscribe();
    this.draining = true;
    this.timer?.unsubscribe();
    this.timer = null;
    this.pump();
    let deadline: Subscription | null = null;
    const timedOut = await Promise.race([
      this.idle().then(() => false),
      new Promise<boolean>((resolve) => {
        deadline = this.scheduler.schedule(() => resolve(true), this.settings.flushTimeoutMs);
      }),
    ]);
    (deadline as Subscription | null)?.unsubscribe();
    if (timedOut) {
      this.abandoned = true;
      let left = this.queue.take(this.queue.size).length;
      for (const [retry, records] of this.retrying) {
        retry.unsubscribe();
        left += records.length;
      }
      this.retrying.clear();
      if (left > 0) {
        this.drop('shutdown', left);
        this.logger.warn(`monitoring sink ${this.sink.name} (${this.sink.target}): ${left} record(s) not delivered within ${this.settings.flushTimeoutMs} ms of shutdown were dropped`);
      }
    }
    try {
      await this.sink.close();
    } catch (err) {
      this.logger.warn(`closing monitoring sink ${this.sink.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    // A closed sink fails what it still had in flight: wait (briefly) so those records are counted too.
    if (this.sending.size > 0) await this.settle(Math.min(this.settings.flushTimeoutMs, 1000));
  }

  private settle(ms: number): Promise<void> {
    let timer: Subscription | null = null;
    return Promise.race([
      Promise.allSettled([...this.sending]).then(() => undefined),
      new Promise<void>((resolve) => {
        timer = this.scheduler.schedule(() => resolve(), ms);
      }),
    ]).finally(() => (timer as Subscription | null)?.unsubscribe());
  }

  private idle(): Promise<void> {
    if (this.queue.size === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || this.queue.size > 0 || this.inFlight > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private delivered(n: number): void {
    this.counts.sent += n;
    this.observer.sent(this.sink.name, n);
  }

  private drop(reason: DropReason, n: number): void {
    this.counts.dropped += n;
    this.observer.dropped(this.sink.name, reason, n);
  }
}
