import type { InferenceRequest, InferenceResult } from './inference.interface';
import { BASE_HOOKS, type MaybePromise, type ModelServer } from './model-server';
import type { RequestContext } from './request-context';
import { collectResults } from './stream-results';

type RequestHook = (request: InferenceRequest, ctx: RequestContext) => MaybePromise<InferenceRequest>;
type ValidateHook = (request: InferenceRequest, ctx: RequestContext) => MaybePromise<void>;
type ResultHook = (request: InferenceRequest, ctx: RequestContext) => MaybePromise<InferenceResult>;
type StreamHook = (request: InferenceRequest, ctx: RequestContext) => AsyncIterable<InferenceResult>;
type PostHook = (result: InferenceResult, ctx: RequestContext) => MaybePromise<InferenceResult>;

/**
 * The hooks a model overrides, decided once at load; a hook it kept from the base class is `null`
 * and the request path skips it.
 *
 * @internal
 */
export interface ModelHooks {
  readonly preprocess: RequestHook | null;
  readonly validate: ValidateHook | null;
  readonly predict: ResultHook;
  /** The model's `predictStream`, if it streams. */
  readonly predictStream: StreamHook | null;
  readonly explain: ResultHook | null;
  readonly postprocess: PostHook | null;
}

function own<T extends keyof ModelServer>(model: ModelServer, hook: T): ModelServer[T] | null {
  const fn = model[hook];
  return fn === BASE_HOOKS[hook] ? null : (fn as ModelServer[T]);
}

/** Reads which hooks `model` overrides, bound to it. @internal */
export function resolveHooks(model: ModelServer): ModelHooks {
  const preprocess = own(model, 'preprocess');
  const validate = own(model, 'validate');
  const explain = own(model, 'explain');
  const postprocess = own(model, 'postprocess');
  const stream = typeof model.predictStream === 'function' ? model.predictStream.bind(model) : null;
  if (typeof model.predict !== 'function' || (model.predict === BASE_HOOKS.predict && stream === null)) {
    throw new Error(`${model.constructor.name} does not implement predict()`);
  }
  return {
    preprocess: preprocess === null ? null : preprocess.bind(model),
    validate: validate === null ? null : validate.bind(model),
    // Plain values (PlainResult) travel as the result; the response encoder tells them from { outputs }.
    predict: model.predict === BASE_HOOKS.predict && stream !== null ? (request, ctx) => collectResults(stream(request, ctx)) : (model.predict.bind(model) as ResultHook),
    predictStream: stream,
    explain: explain === null ? null : explain.bind(model),
    postprocess: postprocess === null ? null : postprocess.bind(model),
  };
}
