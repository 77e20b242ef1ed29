import { ByteStrings } from '../model/byte-strings';
import type { Datatype, TensorData } from '../model/datatype';
import type { OutputTensor, Tensor } from '../model/tensor.interface';
import { describeValue } from './codec-error.util';
import { datatypeOfTypedArray, parseDatatype } from './datatype.util';
import { countElements } from './element-count.util';
import { flattenValues } from './flatten.util';
import { toTensorData } from './tensor-data.util';
import { modelOutputError } from '../errors/codec.errors';

/**
 * The datatype plain (flat) values imply: strings / byte arrays → BYTES, booleans → BOOL, bigints → INT64,
 * numbers → INT64 when all are integers, else FP64. The first element decides the kind; the conversion
 * then rejects elements of another kind. No elements: FP32. One rule for model outputs and for rows a model
 * declares no input for.
 *
 * @internal
 */
export function inferDatatype(values: readonly unknown[]): Datatype {
  if (values.length === 0) return 'FP32';
  const first = values[0];
  if (typeof first === 'string' || first instanceof Uint8Array) return 'BYTES';
  if (typeof first === 'boolean') return 'BOOL';
  if (typeof first === 'bigint') return 'INT64';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && !Number.isInteger(v)) return 'FP64';
  }
  return 'INT64';
}

/**
 * The datatype of typed arrays nested in plain arrays (`[Float32Array, ...]` → FP32), found on the
 * first element of each level; byte arrays are BYTES elements, not rows, so they give `undefined`.
 */
function nestedTypedArrayDatatype(data: readonly unknown[]): Datatype | undefined {
  let v: unknown = data;
  for (let depth = 0; Array.isArray(v) && v.length > 0 && depth < 64; depth++) v = v[0];
  return v instanceof Uint8Array ? undefined : datatypeOfTypedArray(v);
}

/**
 * Checks and normalizes an output as model code returned it into a {@link Tensor}. A missing datatype
 * comes from the typed array's class or from the plain values (see the rules above); a missing shape is
 * `[number of elements]` (`[]` for a bare scalar). Plain data or a typed array of another class is
 * converted with the same range checks as decoding; the datatype's own container is used as is. BYTES may come
 * as a {@link ByteStrings} (used as is) or as plain strings / Buffers (copied into one ByteStrings).
 * Problems are model errors (500) whose message starts with `where` (e.g. `output 'y'`).
 *
 * @publicApi
 */
export function encodeOutput(out: OutputTensor, where: string): Tensor {
  const fail = modelOutputError;
  if (typeof out !== 'object' || out === null) {
    throw fail(`${where}: an output must be an object { name, datatype?, shape?, data }, got ${describeValue(out)}`);
  }
  if (typeof out.name !== 'string' || out.name === '') throw fail(`${where}: an output needs a non-empty string 'name'`);
  const data: unknown = out.data;
  if (data === undefined || data === null) throw fail(`${where}: has no 'data'`);

  let dt: Datatype | undefined = out.datatype === undefined ? undefined : parseDatatype(out.datatype, where, fail);
  let values: unknown = data;
  let length: number;
  if (Array.isArray(data)) {
    if (dt === undefined) dt = nestedTypedArrayDatatype(data);
    const flat = flattenValues(data, dt === undefined || dt === 'BYTES', where, fail);
    if (dt === undefined) dt = inferDatatype(flat);
    values = flat;
    length = flat.length;
  } else if (data instanceof ByteStrings) {
    if (dt === undefined) dt = 'BYTES';
    length = data.length;
  } else if (ArrayBuffer.isView(data) && !(data instanceof DataView) && !(dt === 'BYTES' && data instanceof Uint8Array)) {
    if (dt === undefined) {
      dt = datatypeOfTypedArray(data);
      if (dt === undefined) throw fail(`${where}: cannot tell the datatype of a ${data.constructor.name}; set 'datatype'`);
    }
    length = (data as unknown as ArrayLike<unknown>).length;
  } else {
    // A bare scalar (a scalar tensor unless a shape says otherwise).
    if (dt === undefined) dt = inferDatatype([data]);
    length = -1;
  }

  const given = out.shape;
  let shape: number[];
  let count: number;
  if (given === undefined) {
    shape = length < 0 ? [] : [length];
    count = length < 0 ? 1 : length;
  } else {
    count = countElements(given, where, fail);
    shape = given.slice();
  }
  const tensorData: TensorData = toTensorData(values, dt, shape, count, where, fail);
  const tensor = { name: out.name, datatype: dt, shape, data: tensorData } as Tensor;
  if (out.parameters !== undefined) tensor.parameters = out.parameters;
  return tensor;
}

/** The shape nested plain arrays give (lengths along the first element of each level), or undefined for others. */
function nestedShape(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe) && shape.length < 64) {
    shape.push(probe.length);
    if (probe.length === 0) return shape;
    probe = probe[0];
  }
  if (ArrayBuffer.isView(probe) && !(probe instanceof DataView) && !(probe instanceof Uint8Array)) shape.push((probe as unknown as ArrayLike<unknown>).length);
  return shape;
}

/** True when model code returned plain values (an array, a typed array or an object) rather than `{ outputs: [...] }`. @internal */
export function isPlainResult(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || value instanceof DataView) return false;
  return !Array.isArray((value as { outputs?: unknown }).outputs) || Array.isArray(value);
}

/**
 * Plain values a model returned as output tensors: an array (nested by rows) or a typed array as one output
 * `output-0`, an object as one output per key (a bare value is a scalar); datatypes inferred as for any output.
 * Values that make no tensor (ragged rows, mixed types) are model errors (500) naming the output.
 *
 * @internal
 */
export function plainOutputs(value: unknown): Tensor[] {
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return [encodeOutput({ name: 'output-0', shape: nestedShape(value), data: value as readonly unknown[] }, "output 'output-0'")];
  }
  const out: Tensor[] = [];
  for (const [name, data] of Object.entries(value as Record<string, unknown>)) {
    out.push(encodeOutput({ name, shape: nestedShape(data), data: data as readonly unknown[] }, `output '${name}'`));
  }
  return out;
}
