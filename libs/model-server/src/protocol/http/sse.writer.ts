import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** The headers of every server-sent-events answer. @internal */
export const SSE_HEADERS: Readonly<OutgoingHttpHeaders> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // Proxies that buffer answers (nginx) pass each event on at once.
  'x-accel-buffering': 'no',
};

/**
 * Writes server-sent events on a raw Node response, one `write` per event, respecting backpressure: when the
 * connection's buffer is full, {@link send} waits for `drain` (or the connection's end) before it returns, so
 * the producer behind it (a model's stream) is paused rather than buffered. Once the client went away every
 * call is a no-op.
 *
 * @internal
 */
export class SseWriter {
  private waiter: (() => void) | null = null;

  constructor(private readonly res: ServerResponse) {
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
    const text = event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
    if (this.res.write(text)) return;
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }

  /** Ends the answer (nothing when the client already went away). */
  end(): void {
    this.res.off('drain', this.wake);
    this.res.off('close', this.wake);
    if (!this.closed) this.res.end();
  }

  private readonly wake = (): void => {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  };
}
