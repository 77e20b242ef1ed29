import type { OutputTensor, Parameters, RequestedOutput, Tensor } from './tensor.interface';

/**
 * An inference request as model hooks see it: validated, tensors decoded into typed arrays.
 *
 * @publicApi
 */
export interface InferenceRequest {
  /** The client's id, or one the server generated. */
  id: string;
  parameters?: Parameters;
  inputs: Tensor[];
  /** The outputs the client asked for; the framework filters the response to them. */
  outputs?: RequestedOutput[];
  /**
   * The body as the client sent it: for custom operations, whatever it holds (a v2 request's keys besides the
   * tensors included); for requests in MLRun's form (`inputs` as rows), the whole body, so hooks can read its other
   * keys. Absent for v2 inference requests.
   */
  body?: unknown;
  /** For custom operations called over HTTP: the call's method, path and every header, as MLRun's `op_<name>(event)` sees them. */
  http?: HttpCall;
}

/** An HTTP call as a custom operation sees it. @publicApi */
export interface HttpCall {
  readonly method: string;
  /** The path with its query string, as sent. */
  readonly path: string;
  /** Every request header, names lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * What `predict`, `explain` and `postprocess` return: outputs as typed arrays or plain arrays.
 * The framework checks and encodes it, and fills `id`, `model_name` and `model_version`.
 *
 * @publicApi
 */
export interface InferenceResult {
  outputs: OutputTensor[];
  parameters?: Parameters;
}

/**
 * Plain values a model may return in place of an {@link InferenceResult} (MLRun's way): an array (one value or
 * row per input row) or an object of named values.
 *
 * @publicApi
 */
export type PlainResult = readonly unknown[] | { readonly [name: string]: unknown };

/**
 * The checked response the transports serialize.
 *
 * @publicApi
 */
export interface InferenceResponse {
  model_name: string;
  model_version?: string;
  id: string;
  parameters?: Parameters;
  outputs: Tensor[];
}
