/**
 * The names and attribute keys of the framework's spans, in one place: the stage spans are named after the
 * stages of the data plane (`decode`, `preprocess`, `validate`, `predict`, `explain`, the custom operation's
 * `operation`, `postprocess`, `encode`, and SageMaker's `input` / `output`), the rest here.
 *
 * The model attributes have no OpenTelemetry semantic convention yet; they are namespaced `inference.*`.
 *
 * @publicApi
 */
export const SPAN_NAMES = {
  /** A request's wait in a queue: the adaptive batcher's window, or the wait for a free worker thread. */
  queueWait: 'queue wait',
  /** One `predict` call on a merged batch; it links to the `predict` span of every request it served. */
  batchPredict: 'batch predict',
  /** `predict` as run in a worker thread (the model's own spans there nest under it). */
  workerPredict: 'worker predict',
} as const;

/** Attribute keys the framework sets on its spans besides the semantic conventions'. @publicApi */
export const SPAN_ATTRIBUTES = {
  modelName: 'inference.model.name',
  modelVersion: 'inference.model.version',
  /** `infer`, `explain` or the custom operation's name. */
  operation: 'inference.operation',
  requestId: 'inference.request.id',
  /** The requests merged into a batch. */
  batchSize: 'inference.batch.size',
  /** The 1-based number of the worker thread that ran `predict`. */
  workerIndex: 'inference.worker.index',
} as const;

/** The instrumentation scope of the framework's spans. @internal */
export const TRACER_NAME = 'nest-model-server';
