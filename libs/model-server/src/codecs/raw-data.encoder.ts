import type { Tensor } from '../model/tensor.interface';
import { modelOutputError } from './codec-error.util';
import { isTensorContainer } from './datatype.util';
import { float32ArrayToBf16Bits, float32ArrayToHalfBits } from './fp16.util';

/** Typed arrays whose memory already is the wire layout (on a little-endian host). */
type DirectArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

function bytesOf(a: DirectArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * A tensor's values as little-endian bytes, for binary replies and gRPC raw contents. Numeric data is
 * a view of the same memory (no copy); FP16/BF16 become 16-bit halves; BOOL its 0/1 bytes;
 * BYTES each element as a 4-byte little-endian length followed by its bytes.
 *
 * @publicApi
 */
export function tensorToRaw(t: Tensor): Uint8Array {
  const dt = t.datatype;
  const data = t.data;
  if (dt === 'BYTES' ? !Array.isArray(data) : !isTensorContainer(data, dt)) {
    throw modelOutputError(`tensor '${t.name}': ${dt} data is not in its typed container; encode the output first`);
  }
  switch (dt) {
    case 'FP16':
      return bytesOf(float32ArrayToHalfBits(data as Float32Array));
    case 'BF16':
      return bytesOf(float32ArrayToBf16Bits(data as Float32Array));
    case 'BOOL':
      return boolBytes(data as Uint8Array);
    case 'BYTES':
      return lengthPrefixed(data as readonly unknown[], t.name);
    default:
      return bytesOf(data as DirectArray);
  }
}

function boolBytes(data: Uint8Array): Uint8Array {
  const n = data.length;
  let i = 0;
  while (i < n && data[i] <= 1) i++;
  if (i === n) return bytesOf(data);
  const out = new Uint8Array(n);
  for (let j = 0; j < n; j++) out[j] = data[j] === 0 ? 0 : 1;
  return out;
}

function lengthPrefixed(data: readonly unknown[], name: string): Uint8Array {
  const n = data.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (!(v instanceof Uint8Array)) throw modelOutputError(`tensor '${name}': BYTES element ${i} is not a Buffer`);
    total += 4 + v.byteLength;
  }
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i] as Uint8Array;
    const len = v.byteLength;
    out[p] = len & 0xff;
    out[p + 1] = (len >>> 8) & 0xff;
    out[p + 2] = (len >>> 16) & 0xff;
    out[p + 3] = (len >>> 24) & 0xff;
    out.set(v, p + 4);
    p += 4 + len;
  }
  return out;
}
