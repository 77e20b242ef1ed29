import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import { DEFAULT_MAX_JSON_VALUE_BYTES } from '../codecs/json-limits';
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
  /**
   * Most bytes of memory the JSON values of one body outside its tensor data (`inputs[i].data`, rows read as
   * tensors) may take once built, as estimated from their kinds and counts before any is built: objects, arrays,
   * keys, numbers, and strings without their characters (the body limit bounds those). Bodies of 64 KiB and more
   * are checked; smaller ones cannot reach the default. Default 4 MiB, raised to 2 KiB per allowed input and output
   * when `maxInputs` and `maxOutputs` ask for more.
   */
  maxJsonValueBytes: number;
}

/** The default limits. @publicApi */
export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = {
  maxInputs: 1024,
  maxOutputs: 1024,
  maxParameters: 256,
  maxTensorBytes: 128 * 1024 * 1024,
  maxJsonValueBytes: DEFAULT_MAX_JSON_VALUE_BYTES,
};

/** The room a large body is given per allowed input and output for its JSON values outside tensor data (bytes). */
const JSON_VALUE_BYTES_PER_TENSOR = 2048;

/**
 * The estimated heap the JSON values of a large body outside its tensor data may take under these limits:
 * `maxJsonValueBytes`, or room for 2 KiB per allowed input and output (a named tensor with a shape and a few
 * parameters, as the scanner counts it) when `maxInputs` and `maxOutputs` were raised past it.
 *
 * @internal
 */
export function jsonValueBudget(limits: RequestLimits): number {
  return Math.max(limits.maxJsonValueBytes, JSON_VALUE_BYTES_PER_TENSOR * (limits.maxInputs + limits.maxOutputs));
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
