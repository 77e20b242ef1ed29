import { Tensor as OrtTensor, type InferenceSession } from 'onnxruntime-node';
import { float32ArrayToHalfBits, halfBitsToFloat32 } from '../codecs/fp16.util';
import { ByteStrings } from '../model/byte-strings';
import type { Datatype } from '../model/datatype';
import type { OutputTensor, Tensor, TensorSpec } from '../model/tensor.interface';
import { invalidRequest, outputTypeUnsupported } from '../errors';

/** ONNX Runtime's element types and the v2 datatypes they travel as. */
const V2_OF_ORT: Readonly<Partial<Record<OrtTensor.Type, Datatype>>> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  bool: 'BOOL',
  string: 'BYTES',
};

const ORT_OF_V2: Readonly<Partial<Record<Datatype, OrtTensor.Type>>> = Object.fromEntries(
  Object.entries(V2_OF_ORT).map(([ort, v2]) => [v2, ort]),
) as Partial<Record<Datatype, OrtTensor.Type>>;

/** What a session says about one of its tensor inputs or outputs. @internal */
export interface OrtValueSpec {
  readonly name: string;
  readonly type: OrtTensor.Type;
  readonly spec: TensorSpec;
}

/**
 * The v2 description of a session's inputs or outputs: names, datatypes, shapes (-1 for symbolic or unknown
 * dimensions). Values that are not tensors (sequences, maps) are left out and returned apart; an element type
 * the v2 protocol cannot carry is an error naming it.
 *
 * @internal
 */
export function describeValues(
  metadata: readonly InferenceSession.ValueMetadata[],
  what: 'input' | 'output',
): { tensors: OrtValueSpec[]; skipped: string[] } {
  const tensors: OrtValueSpec[] = [];
  const skipped: string[] = [];
  for (const value of metadata) {
    if (!value.isTensor) {
      skipped.push(value.name);
      continue;
    }
    const datatype = V2_OF_ORT[value.type];
    if (datatype === undefined) {
      throw new Error(`the model's ${what} '${value.name}' has element type ${value.type}, which the v2 protocol cannot carry`);
    }
    const shape = value.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
    tensors.push({ name: value.name, type: value.type, spec: { name: value.name, datatype, shape } });
  }
  return { tensors, skipped };
}

/**
 * A decoded v2 tensor as an ONNX Runtime tensor. Numeric data and BOOL are used as they are (no copy);
 * FP16 is narrowed to 16-bit halves and BYTES become strings (UTF-8, `toStrings()`).
 *
 * @internal
 */
export function toOrtTensor(t: Tensor, expected: OrtTensor.Type | undefined): OrtTensor {
  const type = ORT_OF_V2[t.datatype];
  if (type === undefined) {
    throw invalidRequest(`input '${t.name}' is ${t.datatype}, which ONNX Runtime for Node cannot take`);
  }
  if (expected !== undefined && expected !== type) {
    throw invalidRequest(`input '${t.name}' is ${t.datatype}; the ONNX model expects ${V2_OF_ORT[expected] ?? expected}`);
  }
  const dims = t.shape;
  switch (t.datatype) {
    case 'FP16':
      return new OrtTensor('float16', float32ArrayToHalfBits(t.data as Float32Array), dims);
    case 'BYTES':
      return new OrtTensor('string', (t.data as ByteStrings).toStrings(), dims);
    default:
      return new OrtTensor(type, t.data as Exclude<OrtTensor.DataType, string[]>, dims);
  }
}

/**
 * An ONNX Runtime output as a v2 output tensor: its typed array as is (no copy); FP16 halves widened to
 * 32-bit floats and strings copied into one `ByteStrings`.
 *
 * @internal
 */
export function fromOrtTensor(name: string, value: OrtTensor): OutputTensor {
  const datatype = V2_OF_ORT[value.type];
  if (datatype === undefined) {
    throw outputTypeUnsupported(name, value.type);
  }
  const shape = value.dims.map(Number);
  switch (value.type) {
    case 'float16': {
      const bits = value.data as Uint16Array;
      const data = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) data[i] = halfBitsToFloat32(bits[i]);
      return { name, datatype, shape, data };
    }
    case 'string':
      return { name, datatype, shape, data: ByteStrings.from(value.data as string[]) };
    default:
      return { name, datatype, shape, data: value.data as Exclude<OrtTensor.DataType, string[]> };
  }
}
