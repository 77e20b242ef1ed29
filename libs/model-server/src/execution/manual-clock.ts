import type { BatchClock } from './batch-clock.interface';

interface Timer {
  readonly at: number;
  readonly fn: () => void;
  readonly id: number;
}

/**
 * A {@link BatchClock} that moves only when told to, for tests of timed behaviour (batching windows)
 * without sleeping: `createExecutorFactory({ clock })`, send requests, then `clock.advance(ms)`.
 *
 * @publicApi
 */
export class ManualClock implements BatchClock {
  private time = 0;
  private timers: Timer[] = [];
  private nextId = 1;

  now(): number {
    return this.time;
  }

  schedule(fn: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.time + delayMs, fn, id });
    return id;
  }

  clear(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers that have not fired yet. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing the timers that fall due, earliest first. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      let due: Timer | undefined;
      for (const t of this.timers) if (t.at <= until && (due === undefined || t.at < due.at)) due = t;
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = until;
  }
}
