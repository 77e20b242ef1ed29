import type { DropPolicy } from './monitoring-options.interface';
import type { MonitoringRecord } from './monitoring-record.interface';
import { EncodedRecord } from './record.encoder';

/** Bytes counted for a record beyond its body (the CloudEvent attributes, the queue slot). */
const RECORD_OVERHEAD = 64;
const CLOUD_EVENT_OVERHEAD = 512;

function weigh(record: MonitoringRecord): number {
  const size = record instanceof EncodedRecord ? record.byteLength : record.body.length;
  return size + (record.cloudEvent === undefined ? RECORD_OVERHEAD : CLOUD_EVENT_OVERHEAD);
}

/**
 * The record pipeline's buffer: a ring of records bounded by count and by bytes. When full it drops by its
 * policy — `drop-oldest` makes room by dropping from the head, `drop-newest` refuses the newcomer — and
 * reports how many it dropped, so nothing is lost silently.
 *
 * @publicApi
 */
export class RecordQueue {
  private readonly ring: (MonitoringRecord | undefined)[];
  private head = 0;
  private count = 0;
  private weight = 0;

  constructor(
    /** Most records held. */
    readonly capacity: number,
    /** Most bytes held (JSON text, approximately). */
    readonly maxBytes: number,
    readonly policy: DropPolicy,
  ) {
    this.ring = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held (approximately). */
  get bytes(): number {
    return this.weight;
  }

  private fits(w: number): boolean {
    return this.count < this.capacity && this.weight + w <= this.maxBytes;
  }

  /** Appends `record`; returns how many records were dropped to respect the bounds (0 or more). */
  push(record: MonitoringRecord): number {
    const w = weigh(record);
    if (w > this.maxBytes) return 1;
    let dropped = 0;
    if (!this.fits(w)) {
      if (this.policy === 'drop-newest') return 1;
      while (!this.fits(w)) {
        this.dropHead();
        dropped++;
      }
    }
    this.ring[(this.head + this.count) % this.capacity] = record;
    this.count++;
    this.weight += w;
    return dropped;
  }

  /**
   * Puts `records` (older than anything queued, e.g. a batch whose sink went away) back at the head, in order;
   * returns how many records were dropped to respect the bounds.
   */
  unshift(records: readonly MonitoringRecord[]): number {
    let dropped = 0;
    for (let i = records.length - 1; i >= 0; i--) {
      const record = records[i];
      const w = weigh(record);
      if (w > this.maxBytes) {
        dropped++;
        continue;
      }
      if (!this.fits(w)) {
        // The returning records are the oldest: drop-oldest drops them (and every older one still to come back).
        if (this.policy === 'drop-oldest') return dropped + i + 1;
        while (!this.fits(w)) {
          this.dropTail();
          dropped++;
        }
      }
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.ring[this.head] = record;
      this.count++;
      this.weight += w;
    }
    return dropped;
  }

  /** Removes and returns up to `n` records from the head, oldest first. */
  take(n: number): MonitoringRecord[] {
    const k = Math.min(n, this.count);
    const out = new Array<MonitoringRecord>(k);
    for (let i = 0; i < k; i++) {
      const record = this.ring[this.head]!;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.weight -= weigh(record);
      out[i] = record;
    }
    this.count -= k;
    return out;
  }

  private dropHead(): void {
    this.take(1);
  }

  private dropTail(): void {
    const i = (this.head + this.count - 1) % this.capacity;
    const record = this.ring[i]!;
    this.ring[i] = undefined;
    this.count--;
    this.weight -= weigh(record);
  }
}
