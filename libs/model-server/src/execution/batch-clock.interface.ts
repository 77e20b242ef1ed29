import { performance } from 'node:perf_hooks';
/**
 * The time source of the adaptive batcher: a monotonic clock in milliseconds and one-shot timers.
 * Tests inject a manual clock; the server uses {@link SYSTEM_CLOCK}.
 *
 * @publicApi
 */
export interface BatchClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Calls `fn` once, `delayMs` milliseconds from now; returns a handle for {@link clear}. */
  schedule(fn: () => void, delayMs: number): unknown;
  /** Cancels a timer that has not fired yet. */
  clear(handle: unknown): void;
}

/** `performance.now()` and `setTimeout`. @publicApi */
export const SYSTEM_CLOCK: BatchClock = {
  now: () => performance.now(),
  schedule: (fn, delayMs) => setTimeout(fn, delayMs),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
