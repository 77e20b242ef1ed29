import type { DropPolicy } from './monitoring-options.interface';

/**
 * Why records were dropped: the buffer was full (`overflow`), delivery failed after every retry (`failed`), the
 * target refused them for good (`rejected`), shutdown came first (`shutdown`), or they could not be formatted.
 *
 * @publicApi
 */
export type DropReason = 'overflow' | 'failed' | 'rejected' | 'shutdown' | 'unformattable';

/** Where the record pipeline reports deliveries and drops (Prometheus counters implement it). @publicApi */
export interface PipeObserver {
  sent(sink: string, count: number): void;
  dropped(sink: string, reason: DropReason, count: number): void;
}

/** How the record pipeline batches, buffers and retries. Durations in milliseconds. @publicApi */
export interface PipeSettings {
  batchSize: number;
  batchIntervalMs: number;
  bufferSize: number;
  bufferBytes: number;
  dropPolicy: DropPolicy;
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  flushTimeoutMs: number;
}
