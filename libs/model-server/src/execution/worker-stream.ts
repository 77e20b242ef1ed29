import type { InferenceResult } from '../model/inference.interface';

/** Parts a worker thread may produce ahead of the main thread taking them. @internal */
export const WORKER_STREAM_CREDIT = 2;

/**
 * The main thread's side of a stream a worker thread produces (`predictStream` in the worker): parts arrive as
 * messages and wait here until the data plane takes them; each one taken lets the worker send one more
 * (`pull`), so at most {@link WORKER_STREAM_CREDIT} parts cross ahead. Ending the iteration early (the client
 * went away) tells the worker to stop.
 *
 * @internal
 */
export class WorkerPartStream implements AsyncIterableIterator<InferenceResult> {
  private readonly parts: InferenceResult[] = [];
  private reader: { resolve: (r: IteratorResult<InferenceResult>) => void; reject: (err: unknown) => void } | null = null;
  private done = false;
  private failure: unknown = undefined;
  private failed = false;

  constructor(
    /** Lets the worker send one more part. */
    private readonly pull: () => void,
    /** Tells the worker to stop producing. */
    private readonly stop: () => void,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** A part came from the worker. */
  push(part: InferenceResult): void {
    if (this.done) return;
    const reader = this.reader;
    if (reader !== null) {
      this.reader = null;
      this.pull();
      reader.resolve({ value: part, done: false });
    } else {
      this.parts.push(part);
    }
  }

  /** The worker's stream ended. */
  finish(): void {
    this.settle(undefined, false);
  }

  /** The worker's stream failed (or the worker crashed). */
  fail(err: unknown): void {
    this.settle(err, true);
  }

  next(): Promise<IteratorResult<InferenceResult>> {
    const part = this.parts.shift();
    if (part !== undefined) {
      if (!this.done) this.pull();
      return Promise.resolve({ value: part, done: false });
    }
    if (this.failed) {
      this.failed = false;
      return Promise.reject(this.failure);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.reader = { resolve, reject }));
  }

  return(): Promise<IteratorResult<InferenceResult>> {
    if (!this.done) {
      this.done = true;
      this.parts.length = 0;
      this.stop();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  private settle(err: unknown, failed: boolean): void {
    if (this.done) return;
    this.done = true;
    const reader = this.reader;
    this.reader = null;
    if (reader !== null) {
      if (failed) reader.reject(err);
      else reader.resolve({ value: undefined, done: true });
    } else if (failed) {
      this.failure = err;
      this.failed = true;
    }
  }
}
