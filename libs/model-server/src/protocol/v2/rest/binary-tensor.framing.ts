import type { WireInferenceRequest } from '../../../codecs/wire-tensor.interface';
import { invalidRequest } from '../../../errors/errors';
import type { InferenceResponse } from '../../../model/inference.interface';
import type { Parameters, RequestedOutput } from '../../../model/tensor.interface';
import { serializeInferenceResponse, type BinaryOutputs } from '../../../codecs/v2-json/v2-json.serializer';

/**
 * The binary tensor data extension: inputs with `parameters.binary_data_size` take their bytes, in input
 * order, from the body's tail; outputs asked as binary go after the JSON header of the response.
 *
 * @internal
 */
export function attachBinaryInputs(request: WireInferenceRequest, tail: Buffer): void {
  let offset = 0;
  for (const input of request.inputs) {
    const size = input.parameters?.binary_data_size;
    if (size === undefined) continue;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw invalidRequest(`input '${input.name}': parameters.binary_data_size must be a non-negative integer`);
    }
    if (input.data !== undefined) {
      throw invalidRequest(`input '${input.name}' has both data and binary_data_size; send one of them`);
    }
    if (offset + size > tail.length) {
      throw invalidRequest(
        `input '${input.name}' declares ${size} binary bytes but only ${tail.length - offset} remain after the JSON header`,
      );
    }
    input.raw = tail.subarray(offset, offset + size);
    offset += size;
  }
  if (offset !== tail.length) {
    throw invalidRequest(`the body has ${tail.length - offset} bytes after the JSON header that no input's binary_data_size claims`);
  }
}

/** Whether an output goes as binary: its own `binary_data` wins, else the request's `binary_data_output`. */
function outputIsBinary(name: string, requested: readonly RequestedOutput[] | undefined, parameters: Parameters | undefined): boolean {
  if (requested !== undefined) {
    for (const r of requested) {
      if (r.name === name && r.parameters !== undefined && typeof r.parameters.binary_data === 'boolean') {
        return r.parameters.binary_data;
      }
    }
  }
  return parameters?.binary_data_output === true;
}

/** True when any output of the response is to be sent as binary. @internal */
export function wantsBinaryResponse(request: WireInferenceRequest): boolean {
  if (request.parameters?.binary_data_output === true) return true;
  return request.outputs?.some((o) => o.parameters?.binary_data === true) ?? false;
}

/**
 * Writes the response as a JSON header followed by the binary outputs' bytes; returns the body and the
 * header's length (for `Inference-Header-Content-Length`).
 *
 * @internal
 */
export function serializeBinaryResponse(response: InferenceResponse, request: WireInferenceRequest): { body: Buffer; headerLength: number } {
  const binary: BinaryOutputs = {
    isBinary: (name) => outputIsBinary(name, request.outputs, request.parameters),
    chunks: [],
  };
  const header = Buffer.from(serializeInferenceResponse(response, binary), 'utf8');
  return { body: Buffer.concat([header, ...binary.chunks]), headerLength: header.length };
}
