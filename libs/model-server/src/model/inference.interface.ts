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
   * The body as the client sent it, for custom operations whose body is not a v2 inference request
   * (no `inputs` key). Absent for v2 requests.
   */
  body?: unknown;
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
