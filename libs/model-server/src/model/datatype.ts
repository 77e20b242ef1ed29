import type { ByteStrings } from './byte-strings';

/**
 * The tensor datatypes of the v2 protocol (BF16 included), spelled as on the wire.
 *
 * @publicApi
 */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'BF16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

/** @publicApi */
export type Datatype = (typeof DATATYPES)[number];

/**
 * How each datatype is held in memory once decoded. Tensors stay in these containers end to end.
 * BOOL holds 0/1 bytes; FP16 and BF16 are widened to 32-bit floats (already rounded to their precision);
 * BYTES holds every element's bytes in one {@link ByteStrings} (one buffer plus offsets, not one object per element).
 *
 * @publicApi
 */
export interface TensorDataMap {
  BOOL: Uint8Array;
  UINT8: Uint8Array;
  UINT16: Uint16Array;
  UINT32: Uint32Array;
  UINT64: BigUint64Array;
  INT8: Int8Array;
  INT16: Int16Array;
  INT32: Int32Array;
  INT64: BigInt64Array;
  FP16: Float32Array;
  BF16: Float32Array;
  FP32: Float32Array;
  FP64: Float64Array;
  BYTES: ByteStrings;
}

/** @publicApi */
export type TensorData = TensorDataMap[Datatype];

/** Numeric typed arrays a tensor may live in. @publicApi */
export type NumericTypedArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;
