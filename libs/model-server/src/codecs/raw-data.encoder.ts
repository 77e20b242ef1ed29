import { Buffer } from 'node:buffer';
import { ByteStrings } from '../model/byte-strings';
import type { Tensor } from '../model/tensor.interface';
import { isTensorContainer } from './datatype.util';
import { float32ArrayToBf16Bits, float32ArrayToHalfBits } from './fp16.util';
import { modelOutputError } from '../errors';

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
 * BYTES (a ByteStrings, or an array of Buffers as tensors held before) each element as a 4-byte little-endian
 * length followed by its bytes.
 *
 * @publicApi
 */
export function tensorToRaw(t: Tensor): Uint8Array {
  const dt = t.datatype;
  const data = t.data;
  if (dt === 'BYTES' && Array.isArray(data)) return lengthPrefixed(byteArrays(data, t.name));
  if (!isTensorContainer(data, dt)) {
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
      return lengthPrefixed(data as ByteStrings);
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

/** BYTES given as an array of byte arrays, in one container. */
function byteArrays(data: readonly unknown[], name: string): ByteStrings {
  for (let i = 0; i < data.length; i++) {
    if (!(data[i] instanceof Uint8Array)) throw modelOutputError(`tensor '${name}': BYTES element ${i} is not a Buffer`);
  }
  return ByteStrings.from(data as Uint8Array[]);
}

/** Every element as a 4-byte little-endian length followed by its bytes, in one buffer. */
function lengthPrefixed(data: ByteStrings): Uint8Array {
  const n = data.length;
  const o = data.offsets;
  const src = data.bytes;
  const out = Buffer.allocUnsafe(data.byteLength + 4 * n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const start = o[i];
    const len = o[i + 1] - start;
    out[p] = len & 0xff;
    out[p + 1] = (len >>> 8) & 0xff;
    out[p + 2] = (len >>> 16) & 0xff;
    out[p + 3] = (len >>> 24) & 0xff;
    p += 4;
    // Short elements byte by byte: a native copy per element costs more than it saves.
    if (len < 32) for (let k = 0; k < len; k++) out[p + k] = src[start + k];
    else src.copy(out, p, start, start + len);
    p += len;
  }
  return out;
}
