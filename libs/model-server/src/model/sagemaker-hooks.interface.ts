import { Buffer } from 'node:buffer';
import type { InferenceResponse } from './inference.interface';
import type { ModelCallRequest } from './model-caller.interface';
import type { MaybePromise } from './model-server';

/** How SageMaker Batch Transform sends records: one per invocation, or as many as fit in the payload. @publicApi */
export type BatchStrategy = 'SINGLE_RECORD' | 'MULTI_RECORD';

/** What a model's {@link SageMakerHooks.output} hook answers: the body and its content type. @publicApi */
export interface SageMakerOutput {
  body: Buffer | string;
  contentType: string;
}

/**
 * The SageMaker serving contract's hooks (the Inference Toolkit's `input_fn` / `output_fn`, J.P. Morgan
 * inference-server's `ping_fn` and Batch Transform hooks), all optional. A model implements the ones it needs next
 * to its {@link ModelServer} hooks (`load` is `model_fn`, `predict` is `predict_fn`); they are read once per loaded
 * instance and checked then.
 *
 * @example
 * export class Regressor extends ModelServer implements SageMakerHooks {
 *   batchStrategy = 'MULTI_RECORD' as const;
 *   input(body: Buffer, contentType: string) { ... return { inputs: [...] }; }
 *   predict(request: InferenceRequest) { ... }
 *   output(response: InferenceResponse, accept: string) { return { body: '...', contentType: 'text/csv' }; }
 * }
 * @publicApi
 */
export interface SageMakerHooks {
  /** Refines `GET /ping` once the server is ready: false (or a throw, or no answer within the ping timeout) answers 503. */
  ping?(): MaybePromise<boolean>;
  /**
   * Reads an `/invocations` body (`input_fn`): `contentType` is the request's `Content-Type` as sent
   * (`application/json` when absent). Return the v2 request to run, or undefined to let the content codecs read it.
   * A plain `Error` thrown here answers 400 (the body could not be read); a `ModelServerError` keeps its code.
   */
  input?(body: Buffer, contentType: string): MaybePromise<ModelCallRequest | undefined>;
  /**
   * Writes the `/invocations` answer (`output_fn`): `accept` is the request's `Accept` (`* / *` when absent). Return the
   * body and its content type, or undefined to let the content codecs write it.
   */
  output?(response: InferenceResponse, accept: string): MaybePromise<SageMakerOutput | undefined>;
  /** `BatchStrategy` of `GET /execution-parameters` (default `MULTI_RECORD`). */
  batchStrategy?: BatchStrategy;
  /** `MaxPayloadInMB` of `GET /execution-parameters` (default 6, at most the server's body limit). */
  maxPayloadInMB?: number;
  /** `MaxConcurrentTransforms` of `GET /execution-parameters` (default: the module's option, else 1). */
  maxConcurrentTransforms?: number;
}
