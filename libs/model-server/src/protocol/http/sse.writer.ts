import process from 'node:process';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** The headers of every server-sent-events answer. @internal */
export const SSE_HEADERS: Readonly<OutgoingHttpHeaders> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // Proxies that buffer answers (nginx) pass each event on at once.
  'x-accel-buffering': 'no',
};

/**
 * Writes server-sent events on a raw Node response. The events of one turn of the event loop leave together, in
 * one write (one HTTP chunk) at the end of the turn: a model producing several parts at once costs one write, a
 * part produced alone leaves at once. Events that reach the response's high-water mark (16 KiB) before the turn
 * ends are written at once, so a model that never waits (its parts all made in one turn) meets backpressure too.
 * Backpressure: once a write finds the connection's buffer full, {@link send} waits for `drain` (or the
 * connection's end) before it returns, so the producer behind it (a model's stream) is paused rather than
 * buffered. Once the client went away every call is a no-op.
 *
 * @internal
 */
export class SseWriter {
  private waiter: (() => void) | null = null;
  private pending = '';
  private scheduled = false;
  private full = false;
  /** Characters of pending events that are written without waiting for the end of the turn. */
  private readonly flushAt: number;

  constructor(private readonly res: ServerResponse) {
    this.flushAt = res.writableHighWaterMark;
    res.on('drain', this.wake);
    res.on('close', this.wake);
  }

  /** True once the client went away (or the answer was ended). */
  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  /** One event: `data` is one line of text (JSON), `event` its type when not the default `message`. */
  send(data: string, event?: string): void | Promise<void> {
    if (this.closed) return;
    this.pending += event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
    if (this.pending.length >= this.flushAt) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
    if (this.full) return new Promise<void>((resolve) => (this.waiter = resolve));
  }

  /** Ends the answer, with the events still pending (nothing when the client already went away). */
  end(): void {
    this.res.off('drain', this.wake);
    this.res.off('close', this.wake);
    if (this.closed) return;
    const rest = this.pending;
    this.pending = '';
    if (rest === '') this.res.end();
    else this.res.end(rest);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const text = this.pending;
    this.pending = '';
    if (text === '' || this.closed) return;
    if (!this.res.write(text)) this.full = true;
  };

  private readonly wake = (): void => {
    this.full = false;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  };
}
