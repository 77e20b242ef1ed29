import type { InferenceResponse } from './inference.interface';
import type { Parameters, RequestedOutput } from './tensor.interface';

/**
 * A request one model sends another through the data plane: plain values (`data` as arrays or typed arrays,
 * `datatype` as a string), or a decoded request passed on as is.
 *
 * @publicApi
 */
export interface ModelCallRequest {
  id?: string;
  parameters?: Parameters;
  inputs: { name: string; datatype: string; shape: number[]; data: unknown; parameters?: Parameters }[];
  outputs?: RequestedOutput[];
}

/** Options of an in-process call. @publicApi */
export interface ModelCallOptions {
  /** The version to call (default: the model's default version). */
  version?: string;
}

/**
 * Calls other models in-process, through the data plane: same validation, hooks, monitoring and metrics as a
 * client's request, no HTTP hop. Calls nested deeper than the limit fail (a cycle of models calling each other).
 *
 * @publicApi
 */
export interface ModelCaller {
  infer(name: string, request: ModelCallRequest, options?: ModelCallOptions): Promise<InferenceResponse>;
}
