import { Buffer } from 'node:buffer';
import type { WireInferenceRequest } from '../../../codecs/wire-tensor.interface';
import type { InferenceResponse } from '../../../model/inference.interface';
import type { Parameters, RequestedOutput } from '../../../model/tensor.interface';
import { isLargeResponse, serializeInferenceResponse, serializeInferenceResponseChunks, type BinaryOutputs } from '../../../codecs/v2-json/v2-json.serializer';
import { invalidRequest } from '../../../errors';

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

/**
 * Which outputs go as binary: an output's own `binary_data` wins, else the request's `binary_data_output`.
 * The requested outputs are looked at once, into a map, so the choice per output costs one lookup.
 */
class BinarySelection implements BinaryOutputs {
  readonly chunks: Uint8Array[] = [];
  private readonly chosen: Map<string, boolean> | null = null;
  private readonly byDefault: boolean;

  constructor(requested: readonly RequestedOutput[] | undefined, parameters: Parameters | undefined) {
    this.byDefault = parameters?.binary_data_output === true;
    if (requested === undefined) return;
    for (const r of requested) {
      const choice = r.parameters?.binary_data;
      if (typeof choice !== 'boolean') continue;
      this.chosen ??= new Map();
      if (!this.chosen.has(r.name)) this.chosen.set(r.name, choice);
    }
  }

  isBinary(name: string): boolean {
    return this.chosen?.get(name) ?? this.byDefault;
  }
}

/** True when any output of the response is to be sent as binary. @internal */
export function wantsBinaryResponse(request: WireInferenceRequest): boolean {
  if (request.parameters?.binary_data_output === true) return true;
  return request.outputs?.some((o) => o.parameters?.binary_data === true) ?? false;
}

/**
 * Writes the response as a JSON header followed by the binary outputs' bytes; returns the body, in parts, and
 * the header's length (for `Inference-Header-Content-Length`). A large header is written in slices.
 *
 * @internal
 */
export async function serializeBinaryResponse(response: InferenceResponse, request: WireInferenceRequest): Promise<{ body: Uint8Array[]; headerLength: number }> {
  const binary = new BinarySelection(request.outputs, request.parameters);
  const header = isLargeResponse(response)
    ? await serializeInferenceResponseChunks(response, binary)
    : [Buffer.from(serializeInferenceResponse(response, binary), 'utf8')];
  let headerLength = 0;
  for (const part of header) headerLength += part.length;
  return { body: [...header, ...binary.chunks], headerLength };
}
