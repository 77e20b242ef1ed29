import { clip } from '../errors/clip.util';
import { ByteStrings } from '../model/byte-strings';
import { DATATYPES, type Datatype } from '../model/datatype';
import { describeValue } from './codec-error.util';
import type { CodecErrorFactory } from '../errors';

const KNOWN = new Set<string>(DATATYPES);
const LIST = DATATYPES.join(', ');

const SIZES: Readonly<Record<Datatype, number>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  BF16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: 0,
};

/**
 * The datatype a wire name spells: the exact upper-case name, or the same name in lower case
 * (harmless leniency). Anything else (mixed case, unknown names, non-strings) gives `undefined`.
 *
 * @publicApi
 */
export function normalizeDatatype(s: unknown): Datatype | undefined {
  if (typeof s !== 'string') return undefined;
  if (KNOWN.has(s)) return s as Datatype;
  if (s.length > 6 || s !== s.toLowerCase()) return undefined;
  const upper = s.toUpperCase();
  return KNOWN.has(upper) ? (upper as Datatype) : undefined;
}

/**
 * Bytes per element on the wire (raw / binary data): BOOL 1, FP16 and BF16 2, 64-bit types 8.
 * BYTES has no fixed size and gives 0.
 *
 * @publicApi
 */
export function elementSize(dt: Datatype): number {
  return SIZES[dt];
}

/**
 * The datatype a typed array holds by its class (a Buffer counts as a Uint8Array: UINT8),
 * or `undefined` for anything else (plain arrays, Uint8ClampedArray, DataView).
 *
 * @publicApi
 */
export function datatypeOfTypedArray(arr: unknown): Datatype | undefined {
  if (typeof arr !== 'object' || arr === null || !ArrayBuffer.isView(arr)) return undefined;
  if (arr instanceof Float32Array) return 'FP32';
  if (arr instanceof Float64Array) return 'FP64';
  if (arr instanceof Uint8Array) return 'UINT8';
  if (arr instanceof Int32Array) return 'INT32';
  if (arr instanceof BigInt64Array) return 'INT64';
  if (arr instanceof Int8Array) return 'INT8';
  if (arr instanceof Int16Array) return 'INT16';
  if (arr instanceof Uint16Array) return 'UINT16';
  if (arr instanceof Uint32Array) return 'UINT32';
  if (arr instanceof BigUint64Array) return 'UINT64';
  return undefined;
}

/**
 * The datatype named by `s`, or an error naming the tensor and listing the datatypes.
 *
 * @internal
 */
export function parseDatatype(s: unknown, where: string, fail: CodecErrorFactory): Datatype {
  const dt = normalizeDatatype(s);
  if (dt !== undefined) return dt;
  const shown = typeof s === 'string' ? `'${clip(s, 40)}'` : describeValue(s);
  throw fail(`${where}: unknown datatype ${shown}; use one of ${LIST}`);
}

/**
 * True when `data` is already the container {@link TensorDataMap} prescribes for `dt`
 * (a {@link ByteStrings} for BYTES), so it can be used without a copy.
 *
 * @internal
 */
export function isTensorContainer(data: unknown, dt: Datatype): boolean {
  switch (dt) {
    case 'BOOL':
    case 'UINT8':
      return data instanceof Uint8Array;
    case 'UINT16':
      return data instanceof Uint16Array;
    case 'UINT32':
      return data instanceof Uint32Array;
    case 'UINT64':
      return data instanceof BigUint64Array;
    case 'INT8':
      return data instanceof Int8Array;
    case 'INT16':
      return data instanceof Int16Array;
    case 'INT32':
      return data instanceof Int32Array;
    case 'INT64':
      return data instanceof BigInt64Array;
    case 'FP16':
    case 'BF16':
    case 'FP32':
      return data instanceof Float32Array;
    case 'FP64':
      return data instanceof Float64Array;
    case 'BYTES':
      return data instanceof ByteStrings;
  }
}
