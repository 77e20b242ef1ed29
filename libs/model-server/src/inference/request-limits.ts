import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import { MAX_JSON_VALUES } from '../codecs/json-limits';
import { limitExceeded } from '../errors';

/**
 * How much one request may ask of the server, checked by every transport before it decodes tensor data.
 * Each limit is a module option of the same name.
 *
 * @publicApi
 */
export interface RequestLimits {
  /** Most tensors in `inputs` (default 1024). */
  maxInputs: number;
  /** Most entries in `outputs` (default 1024). */
  maxOutputs: number;
  /** Most entries in any one `parameters` object: the request's, an input's or an output's (default 256). */
  maxParameters: number;
  /**
   * Most bytes the decoded tensors of one request may take, all inputs together (elements × element size,
   * from each tensor's shape and datatype, before anything is allocated; BYTES: their bytes plus 4 per
   * element). Default 128 MiB, twice the default body limit.
   */
  maxTensorBytes: number;
}

/** The default limits. @publicApi */
export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = {
  maxInputs: 1024,
  maxOutputs: 1024,
  maxParameters: 256,
  maxTensorBytes: 128 * 1024 * 1024,
};

/**
 * The most JSON values a large body may hold outside its tensor data under these limits: the default cap, or
 * room for 24 values per allowed input and output (a named tensor with a shape and parameters) when the limits
 * were raised past it.
 *
 * @internal
 */
export function jsonValueCap(limits: RequestLimits): number {
  return Math.max(MAX_JSON_VALUES, 24 * (limits.maxInputs + limits.maxOutputs));
}

/**
 * Checks the counts of a structurally checked request against the limits: inputs, requested outputs and the
 * entries of every parameters object. A 400 naming the setting otherwise. Linear in the request's size.
 *
 * @internal
 */
export function checkRequestLimits(wire: WireInferenceRequest, limits: RequestLimits): void {
  const inputs = wire.inputs;
  if (inputs.length > limits.maxInputs) throw limitExceeded(`${inputs.length} inputs`, limits.maxInputs, 'maxInputs');
  const outputs = wire.outputs;
  if (outputs !== undefined && outputs.length > limits.maxOutputs) {
    throw limitExceeded(`${outputs.length} requested outputs`, limits.maxOutputs, 'maxOutputs');
  }
  const max = limits.maxParameters;
  checkParameters(wire.parameters, 'the request', max);
  for (let i = 0; i < inputs.length; i++) checkParameters(inputs[i].parameters, `input ${i}`, max);
  if (outputs !== undefined) for (let i = 0; i < outputs.length; i++) checkParameters(outputs[i].parameters, `requested output ${i}`, max);
}

function checkParameters(parameters: object | undefined, where: string, max: number): void {
  if (parameters === undefined || parameters === null) return;
  let n = 0;
  for (const key in parameters) {
    if (Object.prototype.hasOwnProperty.call(parameters, key) && ++n > max) {
      throw limitExceeded(`the parameters of ${where} hold more than ${max} entries`, max, 'maxParameters');
    }
  }
}
