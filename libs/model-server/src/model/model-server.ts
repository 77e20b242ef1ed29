import type { InferenceRequest, InferenceResult, PlainResult } from './inference.interface';
import type { ModelContext } from './model-context';
import type { RequestContext } from './request-context';
import type { TensorSpec } from './tensor.interface';
import type { TextGeneration } from './text-generation.interface';

const CONTEXT = Symbol('nest-model-server:context');

/** A hook may answer at once or later. @publicApi */
export type MaybePromise<T> = T | Promise<T>;

/**
 * The base class of every model. Override the hooks you need; {@link predict} (or {@link predictStream}, for a
 * model that answers in parts) is required. Hooks a subclass does not override are skipped (decided once, at load).
 *
 * One request runs `preprocess → validate → predict → postprocess` (`explain` in place of `predict`
 * for `/explain`), each hook awaited once, all sharing the request's {@link RequestContext}.
 *
 * @example
 * export class Doubler extends ModelServer {
 *   predict(req: InferenceRequest): InferenceResult {
 *     const x = req.inputs[0].data as Float32Array;
 *     return { outputs: [{ name: 'y', shape: req.inputs[0].shape, data: x.map((v) => v * 2) }] };
 *   }
 * }
 * @publicApi
 */
export abstract class ModelServer {
  /** Metadata `platform`; override to describe the runtime (e.g. `onnxruntime`). */
  platform = 'nest-model-server';
  /** Declared inputs: when set, requests are checked against them before any hook runs. */
  inputs?: TensorSpec[];
  /** Declared outputs, reported in metadata and used to check requested outputs early. */
  outputs?: TensorSpec[];

  private [CONTEXT]: ModelContext | undefined;

  /** The model's name, version, parameters, files, logger and metrics. Available from `load` on. */
  get context(): ModelContext {
    const ctx = this[CONTEXT];
    if (ctx === undefined) throw new Error('the model context is available from load() on, not in the constructor');
    return ctx;
  }

  /** Loads weights and other state. The model answers requests once this resolves. */
  load(): MaybePromise<void> {}

  /** Turns the request into what `predict` expects. */
  preprocess(request: InferenceRequest, _ctx: RequestContext): MaybePromise<InferenceRequest> {
    return request;
  }

  /**
   * Checks the request; throw to refuse it. A plain `Error` thrown here answers 400 with its message;
   * a {@link ModelServerError} answers with its own code.
   */
  validate(_request: InferenceRequest, _ctx: RequestContext): MaybePromise<void> {}

  /**
   * Runs the model: `{ outputs: [...] }`, or plain values (MLRun's way: an array, one value per row, or an object
   * of named values), which a v2 request gets as tensors of inferred datatypes and an MLRun request as they are.
   * Plain values are for models run in process, without batching (worker threads and batches need `outputs`).
   * A model that only overrides {@link predictStream} gets one that runs the stream to its end and answers the
   * whole result (`assembleResults`); a model with neither fails to load.
   */
  predict(_request: InferenceRequest, _ctx: RequestContext): MaybePromise<InferenceResult | PlainResult> {
    throw new Error(`${this.constructor.name} does not implement predict()`);
  }

  /**
   * Runs the model in parts (a generative model's tokens): each partial result yielded is sent to the client as
   * it comes (`/generate_stream`, the OpenAI routes with `stream: true`, gRPC `ModelStreamInfer`), after
   * `preprocess`/`validate` ran once and `postprocess` on each part. The framework stops pulling when the client
   * reads slowly, and ends the iteration (`return`, so `finally` blocks run) when `ctx.signal` fires (client gone,
   * deadline passed): wait on the signal between parts to stop within one part. Models without it answer the
   * streaming routes 404. Adaptive batching does not apply to streams.
   */
  predictStream?(request: InferenceRequest, ctx: RequestContext): AsyncIterable<InferenceResult>;

  /** Opts the model into the OpenAI-compatible API: how a prompt maps to its request and text is read back. */
  textGeneration?: TextGeneration;

  /** Shapes the model's result before it is checked and sent. */
  postprocess(result: InferenceResult, _ctx: RequestContext): MaybePromise<InferenceResult> {
    return result;
  }

  /** Explains a prediction (`/explain`). Models that do not override it answer 404 there. */
  explain(_request: InferenceRequest, _ctx: RequestContext): MaybePromise<InferenceResult> {
    throw new Error('explain is not implemented');
  }

  /**
   * Chooses what a successful request's monitoring record logs (MLRun's `logged_results`): return
   * `{ inputs, outputs }` to log those lists in place of the request's input tensors and the response's outputs
   * (e.g. feature rows for drift analysis, or fewer columns), or `undefined` to log both as they are. Called only
   * when a record is being built (monitoring on, request sampled), once the response is complete; keep it quick.
   */
  loggedResults(_request: InferenceRequest, _response: unknown, _op: string): { inputs?: unknown[]; outputs?: unknown[] } | undefined {
    return undefined;
  }

  /** Releases resources at shutdown or when the version is unloaded. */
  unload(): MaybePromise<void> {}
}

/** Gives a model its context before `load`. @internal */
export function attachContext(model: ModelServer, context: ModelContext): void {
  (model as unknown as Record<symbol, ModelContext>)[CONTEXT] = context;
}

/** The hooks of the base class, to tell which ones a model overrides. @internal */
export const BASE_HOOKS = ModelServer.prototype;

/**
 * A class that extends {@link ModelServer}. Its constructor may take dependencies when the model is built by
 * Nest's injector (an `@Injectable()` class served in process); models in worker threads are built with `new`.
 *
 * @publicApi
 */
export type ModelClass = new (...deps: never[]) => ModelServer;

/** True for a class that extends {@link ModelServer} (what config and model files must name). @internal */
export function isModelClass(value: unknown): value is ModelClass {
  return typeof value === 'function' && value.prototype instanceof ModelServer;
}
