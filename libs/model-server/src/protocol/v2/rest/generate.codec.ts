import { stringifyJson } from '../../../codecs/lossless-json';
import type { WireInferenceRequest, WireTensor } from '../../../codecs/wire-tensor.interface';
import { clip } from '../../../errors/clip.util';
import { invalidRequest } from '../../../errors';
import { ByteStrings } from '../../../model/byte-strings';
import type { InferenceResponse } from '../../../model/inference.interface';
import type { Parameters, Tensor, TensorSpec } from '../../../model/tensor.interface';

const NUMERIC = new Set(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'BF16', 'FP32', 'FP64']);

/**
 * The generate extension's request (`/generate`, `/generate_stream`) as a v2 request: every field but `id` and
 * `parameters` is an input tensor of that name (`{"text_input": "Alice"}` is a BYTES tensor of shape [1]); a
 * list is a 1-D tensor. The datatype is the model's declared one for that input, else what the JSON value is
 * (text BYTES, true/false BOOL, whole numbers INT64, others FP64). `parameters` are the request's parameters.
 *
 * @internal
 */
export function generateRequest(body: unknown, specs: readonly TensorSpec[]): WireInferenceRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('the generate body is a JSON object of input fields, e.g. {"text_input": "Once upon a time", "parameters": {"max_tokens": 16}}');
  }
  const inputs: WireTensor[] = [];
  let id: string | undefined;
  let parameters: Parameters | undefined;
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (name === 'id') {
      if (typeof value !== 'string') throw invalidRequest('"id" must be a string');
      id = value;
    } else if (name === 'parameters') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidRequest('"parameters" must be an object');
      parameters = value as Parameters;
    } else {
      inputs.push(fieldTensor(name, value, specs.find((s) => s.name === name)));
    }
  }
  if (inputs.length === 0) throw invalidRequest('the generate body names no input field (e.g. "text_input")');
  const wire: WireInferenceRequest = { inputs };
  if (id !== undefined) wire.id = id;
  if (parameters !== undefined) wire.parameters = parameters;
  return wire;
}

/**
 * The generate extension's answer (or one event of a stream) from a v2 response, as JSON text: `id`,
 * `model_name`, `model_version`, and each output as a field of its name, a single value when it holds one
 * (`"text_output": "..."`), else a list. The prefix is kept from the last response (the parts of one stream share
 * it); values are written with `JSON.stringify` (the lossless writer when they hold 64-bit integers).
 *
 * @internal
 */
export class GenerateJsonWriter {
  private lastId = '';
  private lastModel = '';
  private lastVersion: string | undefined;
  private prefix = '';

  write(response: InferenceResponse): string {
    if (response.id !== this.lastId || response.model_name !== this.lastModel || response.model_version !== this.lastVersion) {
      this.lastId = response.id;
      this.lastModel = response.model_name;
      this.lastVersion = response.model_version;
      this.prefix = `{"id":${JSON.stringify(response.id)},"model_name":${JSON.stringify(response.model_name)}`;
      if (response.model_version !== undefined) this.prefix += `,"model_version":${JSON.stringify(response.model_version)}`;
    }
    let text = this.prefix;
    for (const tensor of response.outputs) {
      const data = tensor.data as unknown;
      const value = data instanceof ByteStrings && data.length === 1 ? data.text(0) : fieldValue(tensor);
      text += `,${JSON.stringify(tensor.name)}:${jsonValue(value)}`;
    }
    return `${text}}`;
  }
}

/** A field's value as JSON: `JSON.stringify`, or the lossless writer for 64-bit integers. */
function jsonValue(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return stringifyJson(value); // bigint values: written as bare JSON integers
  }
}

function fieldTensor(name: string, value: unknown, spec: TensorSpec | undefined): WireTensor {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  const kinds = new Set<string>();
  for (const item of list) {
    const kind = kindOf(item);
    if (kind === null) throw invalidRequest(`input field '${clip(name)}' must be text, a number, true/false or a flat list of them`);
    kinds.add(kind);
  }
  const datatype = spec?.datatype ?? jsonDatatype(kinds);
  if (datatype === undefined) throw invalidRequest(`input field '${clip(name)}' ${list.length === 0 ? 'is an empty list: its datatype cannot be told' : 'mixes kinds of values'}`);
  if (datatype !== 'BYTES' && !NUMERIC.has(datatype)) throw invalidRequest(`input field '${clip(name)}' has datatype ${datatype}, which the generate extension cannot send`);
  if ((datatype === 'BYTES') !== kinds.has('BYTES') && kinds.size > 0) {
    throw invalidRequest(`input field '${clip(name)}' must be ${datatype === 'BYTES' ? 'text' : 'numbers or true/false'} (the model declares ${datatype})`);
  }
  return { name, datatype, shape: [list.length], data: list };
}

/** The datatype of a list's kinds of JSON values: one kind, or whole and other numbers together (FP64). */
function jsonDatatype(kinds: ReadonlySet<string>): string | undefined {
  if (kinds.size === 1) return kinds.values().next().value;
  if (kinds.size === 2 && kinds.has('INT64') && kinds.has('FP64')) return 'FP64';
  return undefined;
}

function kindOf(value: unknown): 'BYTES' | 'BOOL' | 'INT64' | 'FP64' | null {
  switch (typeof value) {
    case 'string':
      return 'BYTES';
    case 'boolean':
      return 'BOOL';
    case 'bigint':
      return 'INT64';
    case 'number':
      return Number.isInteger(value) ? 'INT64' : 'FP64';
    default:
      return null;
  }
}

function fieldValue(tensor: Tensor): unknown {
  const data = tensor.data as unknown;
  const values: unknown[] = data instanceof ByteStrings ? data.toStrings() : Array.from(data as ArrayLike<unknown>);
  return values.length === 1 ? values[0] : values;
}
