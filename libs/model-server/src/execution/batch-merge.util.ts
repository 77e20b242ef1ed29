import { encodeOutput, stringifyJson } from '../codecs';
import { ByteStrings } from '../model/byte-strings';
import type { TensorData } from '../model/datatype';
import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { OutputTensor, Tensor } from '../model/tensor.interface';
import { batchRowsMismatch, notAnInferenceResult } from '../errors';

/** A typed array class that can be built from a length. */
type TypedArrayClass = new (length: number) => { set(array: ArrayLike<unknown>, offset: number): void; readonly length: number };

/**
 * The rows a request adds to a batch: the first dimension its inputs share (≥ 1), or -1 when it cannot be
 * merged with others (no inputs, a scalar input, inputs that disagree on the first dimension, no rows).
 *
 * @internal
 */
export function mergeableRows(request: InferenceRequest): number {
  const inputs = request.inputs;
  if (inputs.length === 0) return -1;
  const rows = inputs[0].shape.length === 0 ? -1 : inputs[0].shape[0];
  if (rows < 1) return -1;
  for (let i = 1; i < inputs.length; i++) {
    const shape = inputs[i].shape;
    if (shape.length === 0 || shape[0] !== rows) return -1;
  }
  return rows;
}

/**
 * What requests must share to be merged: the same inputs (names, order, datatypes, dimensions after the
 * first, parameters), the same request parameters and the same requested outputs (names and parameters).
 *
 * @internal
 */
export function batchKey(request: InferenceRequest): string {
  let key = '';
  for (const t of request.inputs) {
    key += t.name + '\u001f' + t.datatype + '\u001f' + t.shape.slice(1).join(',');
    key += t.parameters === undefined ? '\u001e' : '\u001f' + stringifyJson(t.parameters) + '\u001e';
  }
  key += '\u001d' + (request.parameters === undefined ? '' : stringifyJson(request.parameters));
  key += '\u001d' + (request.outputs === undefined ? '' : stringifyJson(request.outputs));
  return key;
}

/** One request of several, merged along the first dimension (`rows[i]` rows from request `i`). @internal */
export function mergeRequests(requests: readonly InferenceRequest[], rows: readonly number[], id: string): InferenceRequest {
  const first = requests[0];
  let total = 0;
  for (const r of rows) total += r;
  const inputs: Tensor[] = new Array(first.inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const model = first.inputs[i];
    const shape = model.shape.slice();
    shape[0] = total;
    const tensor = { name: model.name, datatype: model.datatype, shape, data: concatData(requests, i) } as Tensor;
    if (model.parameters !== undefined) tensor.parameters = model.parameters;
    inputs[i] = tensor;
  }
  const merged: InferenceRequest = { id, inputs };
  if (first.parameters !== undefined) merged.parameters = first.parameters;
  if (first.outputs !== undefined) merged.outputs = first.outputs;
  return merged;
}

function concatData(requests: readonly InferenceRequest[], index: number): TensorData {
  const firstData = requests[0].inputs[index].data;
  if (firstData instanceof ByteStrings) {
    const parts = new Array<ByteStrings>(requests.length);
    for (let k = 0; k < requests.length; k++) parts[k] = requests[k].inputs[index].data as ByteStrings;
    return ByteStrings.concat(parts);
  }
  let length = 0;
  for (const r of requests) length += (r.inputs[index].data as ArrayLike<unknown>).length;
  const out = new (firstData.constructor as TypedArrayClass)(length);
  let offset = 0;
  for (const r of requests) {
    const data = r.inputs[index].data as ArrayLike<unknown>;
    out.set(data, offset);
    offset += data.length;
  }
  return out as unknown as TensorData;
}

/**
 * A batch's result split back into one result per request: every output must have the batch's rows as its
 * first dimension (anything else fails loudly, for every request of the batch); request `i` gets its own
 * rows as views of the batch's arrays (BYTES too: a slice sharing the batch's buffer).
 *
 * @internal
 */
export function splitResult(result: InferenceResult, rows: readonly number[], label: string): InferenceResult[] {
  if (typeof result !== 'object' || result === null || !Array.isArray(result.outputs)) {
    throw notAnInferenceResult(label, 'predict');
  }
  let total = 0;
  for (const r of rows) total += r;
  const parts: InferenceResult[] = new Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    parts[k] = { outputs: new Array(result.outputs.length) };
    if (result.parameters !== undefined) parts[k].parameters = { ...result.parameters };
  }
  for (let o = 0; o < result.outputs.length; o++) {
    const out = result.outputs[o];
    const t = encodeOutput(out, `output '${(out as OutputTensor | undefined)?.name}'`);
    if (t.shape.length === 0 || t.shape[0] !== total) {
      throw batchRowsMismatch(label, t.name, total, rows.length, t.shape);
    }
    const rowSize = total === 0 ? 0 : t.data.length / total;
    let start = 0;
    for (let k = 0; k < rows.length; k++) {
      const end = start + rows[k];
      const shape = t.shape.slice();
      shape[0] = rows[k];
      const data = t.data instanceof ByteStrings
        ? t.data.slice(start * rowSize, end * rowSize)
        : (t.data as Exclude<TensorData, ByteStrings>).subarray(start * rowSize, end * rowSize);
      const piece = { name: t.name, datatype: t.datatype, shape, data } as Tensor;
      if (t.parameters !== undefined) piece.parameters = t.parameters;
      parts[k].outputs[o] = piece;
      start = end;
    }
  }
  return parts;
}
