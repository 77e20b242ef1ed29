import { performance } from 'node:perf_hooks';
import { callCancelled } from '../../../errors';

/** Units of work between two looks at the clock (a unit is about one field or one element: a few ns). @internal */
export const CHECK_EVERY = 4096;

/**
 * Milliseconds of CPU a large message's decoding or encoding may take before it lets the event loop run
 * (health probes, other calls); well under the 100 ms a probe may wait.
 */
export const SLICE_MS = 20;

/**
 * Work that may pause: a generator that yields (nothing) where it can be resumed later, and returns its
 * result. Run it with {@link runSliced}.
 *
 * @internal
 */
export type SlicedWork<T> = Generator<void, T, void>;

/**
 * Tells sliced work when its time slice is used up. The work counts its units with {@link due} and yields
 * when it answers true; the clock is read only every few thousand units, so the count costs next to nothing
 * on small messages, which finish within their first slice and never yield.
 *
 * @internal
 */
export class WorkSlicer {
  private left = CHECK_EVERY;
  /** When the slice ends; 0 until the clock is first read (small work never reads it). */
  private sliceEnd = 0;

  constructor(private readonly sliceMs: number = SLICE_MS) {}

  /** Counts `units` of work done; true when the slice is over (yield now). */
  due(units = 1): boolean {
    if ((this.left -= units) > 0) return false;
    this.left = CHECK_EVERY;
    const now = performance.now();
    if (this.sliceEnd === 0) this.sliceEnd = now + this.sliceMs;
    return now >= this.sliceEnd;
  }

  /** Starts a new slice (after the event loop has run). */
  restart(): void {
    this.left = CHECK_EVERY;
    this.sliceEnd = performance.now() + this.sliceMs;
  }
}

/** A call whose work stops when it is cancelled: checked between two slices. @internal */
export interface CancellableCall {
  readonly cancelled: boolean;
}

/**
 * Runs sliced work: synchronously when it finishes within its first slice (the result itself, no promise:
 * small messages keep their synchronous path), else slice by slice with the event loop running in between
 * (`setImmediate`). Before each resumption the `call` is looked at: once it is cancelled the work is dropped
 * (CANCELLED). A throw from the work becomes the rejection.
 *
 * @internal
 */
export function runSliced<T>(work: SlicedWork<T>, slicer: WorkSlicer, call?: CancellableCall): T | Promise<T> {
  const first = work.next();
  if (first.done === true) return first.value;
  return resume(work, slicer, call);
}

async function resume<T>(work: SlicedWork<T>, slicer: WorkSlicer, call: CancellableCall | undefined): Promise<T> {
  // The first slice ran wherever the work started, often an I/O callback or a nextTick: an immediate set there
  // runs in the same turn of the loop, before its timers and I/O, so the first two slices would block as one.
  // The first pause waits a turn more; later slices run in the check phase, and one immediate is a whole turn.
  await new Promise(setImmediate);
  for (;;) {
    await new Promise(setImmediate);
    if (call !== undefined && call.cancelled) {
      work.return(undefined as never);
      throw callCancelled();
    }
    slicer.restart();
    const step = work.next();
    if (step.done === true) return step.value;
  }
}

/** Bytes copied between two looks at the clock: first writes to fresh memory cost page faults, so not more. @internal */
export const COPY_CHUNK = 256 * 1024;

/**
 * Copies `src` into `dst` at `at`, in chunks, yielding when the slice is over: one large copy into memory just
 * allocated can take hundreds of milliseconds (every page is touched for the first time).
 *
 * @internal
 */
export function* copySliced(src: Uint8Array, dst: Uint8Array, at: number, s: WorkSlicer): SlicedWork<void> {
  const n = src.byteLength;
  if (n <= COPY_CHUNK) {
    dst.set(src, at);
    return;
  }
  for (let p = 0; p < n; p += COPY_CHUNK) {
    dst.set(src.subarray(p, Math.min(n, p + COPY_CHUNK)), at + p);
    if (s.due(CHECK_EVERY)) yield;
  }
}

/** Runs sliced work to its end at once (tests, and callers that accept the block). @internal */
export function runToEnd<T>(work: SlicedWork<T>): T {
  for (;;) {
    const step = work.next();
    if (step.done === true) return step.value;
  }
}
