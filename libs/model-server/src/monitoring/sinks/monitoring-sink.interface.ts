import type { MonitoringRecord } from '../monitoring-record.interface';

/**
 * Where the record pipeline delivers its records. A sink makes one delivery attempt per {@link send}
 * (bounded by its own timeout); the pipe owns buffering, batching, retries and dropping.
 *
 * @publicApi
 */
export interface MonitoringSink {
  /** Short name for metrics and logs: `file`, `stdout`, `redis`, `http`, or a custom one. */
  readonly name: string;
  /** Where it writes, for logs (never holds credentials). */
  readonly target: string;
  /** How many {@link send} calls the pipe may have in flight at once. */
  readonly maxInFlight: number;
  /**
   * False while the target is known to be unreachable (e.g. Redis disconnected, file not open yet): records
   * then wait in the pipe's bounded buffer instead of being sent.
   */
  readonly available: boolean;
  /** Opens what the sink needs (files, connections). A rejection stops the server from starting. */
  init(): Promise<void>;
  /** Calls `listener` each time the sink becomes available again. */
  onAvailable(listener: () => void): void;
  /**
   * Delivers a batch, in order. Rejects if any record was not delivered: with a {@link SinkDeliveryError}
   * to say which ones are left, otherwise the whole batch counts as undelivered.
   */
  send(batch: readonly MonitoringRecord[]): Promise<void>;
  /**
   * True when, once {@link send} has resolved, the sink never reads that batch's records again (nothing keeps
   * them, nothing still writes them): the pipe may then write new records into their memory. Leave it unset
   * for a sink that keeps records, or that may still be writing them after `send` settled.
   */
  readonly forgetsSentBatches?: boolean;
  /** Releases files and connections (after the pipe flushed). */
  close(): Promise<void>;
}

/**
 * A partial delivery: `remaining` records may be retried, `rejected` ones were refused for good (e.g. an HTTP 400)
 * and are dropped without retry.
 *
 * @publicApi
 */
export class SinkDeliveryError extends Error {
  constructor(
    message: string,
    readonly remaining: readonly MonitoringRecord[],
    readonly rejected: number = 0,
  ) {
    super(message);
    this.name = 'SinkDeliveryError';
  }
}
