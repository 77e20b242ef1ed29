import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { ModelServer } from '../model/model-server';
import type { RequestContext } from '../model/request-context';

/**
 * Where a model's `predict` runs: in process, in worker threads, behind a batcher. The data plane only
 * calls {@link run}; the executor owns queues and their limits.
 *
 * @publicApi
 */
export interface PredictExecutor {
  /** The result of `predict` for one request: synchronously when it is at hand (in-process synchronous models), else a promise. */
  run(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> | InferenceResult;
  /**
   * Runs the model's `predictStream` where the executor runs models (worker threads): partial results as they
   * are produced. Executors without it leave streams to the main thread's instance.
   */
  stream?(request: InferenceRequest, ctx: RequestContext): AsyncIterable<InferenceResult>;
  /** Stops taking work and releases threads; pending work finishes or fails. */
  close(): Promise<void>;
  /**
   * Gets ready before the version is: e.g. starts worker threads and loads the model in them. The version
   * turns ready when it resolves and failed when it rejects (the executor is then closed).
   */
  start?(): Promise<void>;
  /**
   * True when `predict` runs on model instances the executor loads itself (worker threads), so the
   * main-thread instance is not loaded (see `loadInMainThread`).
   */
  readonly loadsModel?: boolean;
}

/** `executor.run` as a promise, whether it answered at once, later, or threw. @internal */
export function runAsPromise(executor: PredictExecutor, request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
  try {
    return Promise.resolve(executor.run(request, ctx));
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Where executors report their queues and batches (Prometheus metrics implement it). Every call is cheap and
 * synchronous; the default does nothing.
 *
 * @publicApi
 */
export interface ExecutorObserver {
  /** A batch of `size` requests went to `predict`. */
  batch(model: string, version: string | undefined, size: number): void;
  /** A request waited `ms` milliseconds in a queue before running. */
  queueWait(model: string, version: string | undefined, ms: number): void;
  /** The number of requests waiting now. */
  queueDepth(model: string, version: string | undefined, depth: number): void;
}

/** An observer that records nothing. @publicApi */
export const NO_OBSERVER: ExecutorObserver = {
  batch: () => undefined,
  queueWait: () => undefined,
  queueDepth: () => undefined,
};

/** What an executor factory learns about the version it serves. @publicApi */
export interface ExecutorTarget {
  readonly name: string;
  readonly version: string | undefined;
  readonly model: ModelServer;
  readonly predict: (request: InferenceRequest, ctx: RequestContext) => Promise<InferenceResult> | InferenceResult;
  /** The version's merged config; executors read their settings and the class's `modulePath`/`className`. */
  readonly config: Readonly<Record<string, unknown>> & { readonly modulePath?: string; readonly className?: string };
  /** Where to report queue and batch figures. */
  readonly observer: ExecutorObserver;
}

/** Builds the executor of one loaded model version. @publicApi */
export type ExecutorFactory = (target: ExecutorTarget) => PredictExecutor;
