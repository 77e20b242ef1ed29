/**
 * Where and how a model's `predict` runs, set per model in its config (`models[]` of
 * `ModelServerModule.forRoot` or of the CLI's config file). The default executor factory reads them.
 *
 * @publicApi
 */
export interface ExecutionOptions {
  /**
   * Run `predict` in this many worker threads (default 0: on the main thread). Each worker loads its own
   * instance of the model (its `load` runs there), tensors are transferred, not copied, and the main thread
   * keeps serving health checks and other models. Needs `modulePath` (and `className` when the export's name
   * is not the class's own name) so the workers can load the class.
   */
  workers?: number;
  /**
   * Merge up to this many compatible requests into one `predict` call along the first dimension
   * (default 1: no batching).
   */
  maxBatchSize?: number;
  /**
   * How long a batch may wait for more requests, in milliseconds after its first request arrived
   * (default 5): one absolute deadline per batch. Used when `maxBatchSize` > 1.
   */
  maxLatencyMs?: number;
  /**
   * How many requests (or batches, for the worker pool) may wait in this model's queues
   * (default 1024). Past it, new requests are refused with 503 and `Retry-After`.
   */
  maxQueue?: number;
  /**
   * With `workers`, also load the model on the main thread (default false). Without it the main-thread
   * instance is never loaded: it reports metadata and runs `preprocess`, `validate`, `postprocess`, `explain`
   * and custom operations, so those hooks must not depend on state that `load` builds. Set it when they do.
   */
  loadInMainThread?: boolean;
  /**
   * With `workers`: how long a worker thread may keep running a request after that request's deadline passed,
   * in milliseconds (default 5000). The client has its 504 at the deadline and the request's signal fires then;
   * a worker that still has not answered this much later (stuck in a loop, ignoring its signal) is terminated,
   * which frees its core, and a replacement loads. Requests without a deadline (no `timeoutMs`,
   * `requestTimeoutMs` or client timeout) are never cut short.
   */
  workerKillGraceMs?: number;
}

/** {@link ExecutionOptions} with defaults applied. @publicApi */
export type ResolvedExecutionOptions = Required<ExecutionOptions>;

/** Default of {@link ExecutionOptions.maxLatencyMs}. @publicApi */
export const DEFAULT_MAX_LATENCY_MS = 5;

/** Default of {@link ExecutionOptions.maxQueue}. @publicApi */
export const DEFAULT_MAX_QUEUE = 1024;

/** Default of {@link ExecutionOptions.workerKillGraceMs}. @publicApi */
export const DEFAULT_WORKER_KILL_GRACE_MS = 5000;
