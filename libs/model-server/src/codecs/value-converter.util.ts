import { Buffer } from 'node:buffer';
import { ByteStrings } from '../model/byte-strings';
import type { Datatype, TensorData } from '../model/datatype';
import { describeValue } from './codec-error.util';
import { elementSize } from './datatype.util';
import { BF16_MAX, FP16_MAX, roundToBf16, roundToHalf } from './fp16.util';
import type { TensorBudget } from './tensor-budget';
import type { CodecErrorFactory } from '../errors';

/** Typed arrays of the integer datatypes up to 32 bits. */
type SmallIntArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const FP32_MAX = 3.4028234663852886e38;
/** Most bytes the elements of one BYTES tensor may hold together (a {@link ByteStrings}' offsets are 32-bit). @internal */
export const MAX_BYTES_TOTAL = 0xffffffff;

/**
 * Converts flat element values (a plain array, or a typed array of another class) into the container of
 * `dt`, checking that every value fits: integers in range and never wrapped, floats that would overflow
 * their format rejected, FP16/BF16 rounded to their precision, BOOL as 0/1 bytes, BYTES (strings as UTF-8,
 * Buffers / byte arrays as they are) into one {@link ByteStrings}: a size pass, then one copy.
 * Both decoding (client errors) and output encoding (model errors) use it; `fail` builds the error.
 *
 * `budget` is given when decoding a client's tensor: the decoded size (elements × element size; BYTES: their
 * bytes plus 4 per element) is taken from it before anything is allocated, and plain values must be finite
 * (JSON carries no NaN or infinity, and `1e999` reads as Infinity; non-finite values travel as binary data,
 * which reaches here as a typed array and is kept as it is).
 *
 * @internal
 */
export function convertValues(
  values: ArrayLike<unknown>,
  dt: Datatype,
  where: string,
  fail: CodecErrorFactory,
  budget: TensorBudget | null = null,
): TensorData {
  const n = values.length;
  if (dt === 'BYTES') return toByteStrings(values, where, fail, budget);
  if (budget !== null) budget.take(n * elementSize(dt), where);
  const finite = budget !== null && Array.isArray(values);
  switch (dt) {
    case 'BOOL':
      return toBool(values, where, fail);
    case 'UINT8':
      return toSmallInt(values, new Uint8Array(n), 0, 255, dt, where, fail);
    case 'UINT16':
      return toSmallInt(values, new Uint16Array(n), 0, 65535, dt, where, fail);
    case 'UINT32':
      return toSmallInt(values, new Uint32Array(n), 0, 4294967295, dt, where, fail);
    case 'INT8':
      return toSmallInt(values, new Int8Array(n), -128, 127, dt, where, fail);
    case 'INT16':
      return toSmallInt(values, new Int16Array(n), -32768, 32767, dt, where, fail);
    case 'INT32':
      return toSmallInt(values, new Int32Array(n), -2147483648, 2147483647, dt, where, fail);
    case 'INT64':
      return toBigInts(values, new BigInt64Array(n), INT64_MIN, INT64_MAX, dt, where, fail);
    case 'UINT64':
      return toBigInts(values, new BigUint64Array(n), 0n, UINT64_MAX, dt, where, fail);
    case 'FP16':
      return toRounded(values, roundToHalf, FP16_MAX, dt, finite, where, fail);
    case 'BF16':
      return toRounded(values, roundToBf16, BF16_MAX, dt, finite, where, fail);
    case 'FP32':
      return toRounded(values, Math.fround, FP32_MAX, dt, finite, where, fail);
    case 'FP64':
      return toFloat64(values, finite, where, fail);
  }
}

function notFinite(where: string, v: unknown, i: number, dt: Datatype): string {
  return `${at(where, v, i)} is not a finite number; ${dt} takes finite numbers here (send NaN and infinities as binary data)`;
}

function at(where: string, v: unknown, i: number): string {
  return `${where}: value ${describeValue(v)} at index ${i}`;
}

function toBool(values: ArrayLike<unknown>, where: string, fail: CodecErrorFactory): Uint8Array {
  const n = values.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === true || v === 1 || v === 1n) out[i] = 1;
    else if (v !== false && v !== 0 && v !== 0n) {
      throw fail(`${at(where, v, i)} is not a boolean; BOOL takes true or false (0 or 1 accepted)`);
    }
  }
  return out;
}

function toSmallInt<T extends SmallIntArray>(
  values: ArrayLike<unknown>,
  out: T,
  min: number,
  max: number,
  dt: Datatype,
  where: string,
  fail: CodecErrorFactory,
): T {
  const n = values.length;
  const minBig = BigInt(min);
  const maxBig = BigInt(max);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    let x: number;
    if (typeof v === 'number') {
      x = v;
      if (!Number.isInteger(x)) throw fail(`${at(where, v, i)} is not an integer; ${dt} takes integers in ${min}..${max}`);
    } else if (typeof v === 'bigint') {
      if (v < minBig || v > maxBig) throw fail(`${at(where, v, i)} is out of range for ${dt} (${min}..${max})`);
      x = Number(v);
    } else {
      throw fail(`${at(where, v, i)} is not a number; ${dt} takes integers in ${min}..${max}`);
    }
    if (x < min || x > max) throw fail(`${at(where, v, i)} is out of range for ${dt} (${min}..${max})`);
    out[i] = x;
  }
  return out;
}

function toBigInts<T extends BigInt64Array | BigUint64Array>(
  values: ArrayLike<unknown>,
  out: T,
  min: bigint,
  max: bigint,
  dt: Datatype,
  where: string,
  fail: CodecErrorFactory,
): T {
  const n = values.length;
  const minNumber = Number(min);
  const maxNumber = Number(max);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'bigint') {
      if (v < min || v > max) throw fail(`${at(where, v, i)} is out of range for ${dt} (${min}..${max})`);
      out[i] = v;
    } else if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw fail(`${at(where, v, i)} is not an integer; ${dt} takes integers in ${min}..${max}`);
      // Number(max) rounds up to 2^63 / 2^64, which is itself out of range.
      if (v < minNumber || v >= maxNumber) throw fail(`${at(where, v, i)} is out of range for ${dt} (${min}..${max})`);
      if (!Number.isSafeInteger(v)) {
        throw fail(
          `${at(where, v, i)} is beyond 2^53 as a floating-point number and may have lost digits; ` +
            `write ${dt} values as plain integers (exact) or bigint`,
        );
      }
      out[i] = BigInt(v);
    } else {
      throw fail(`${at(where, v, i)} is not a number; ${dt} takes integers in ${min}..${max}`);
    }
  }
  return out;
}

function toRounded(
  values: ArrayLike<unknown>,
  round: (x: number) => number,
  maxFinite: number,
  dt: Datatype,
  finite: boolean,
  where: string,
  fail: CodecErrorFactory,
): Float32Array {
  const n = values.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    let x: number;
    if (typeof v === 'number') {
      x = v;
      if (finite && x - x !== 0) throw fail(notFinite(where, v, i, dt));
    } else if (typeof v === 'bigint') x = Number(v);
    else throw fail(`${at(where, v, i)} is not a number; ${dt} takes numbers`);
    const r = round(x);
    if (r - r !== 0 && (x - x === 0 || typeof v === 'bigint')) {
      throw fail(`${at(where, v, i)} is out of range for ${dt} (largest finite magnitude ${maxFinite})`);
    }
    out[i] = r;
  }
  return out;
}

function toFloat64(values: ArrayLike<unknown>, finite: boolean, where: string, fail: CodecErrorFactory): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'number') {
      if (finite && v - v !== 0) throw fail(notFinite(where, v, i, 'FP64'));
      out[i] = v;
    } else if (typeof v === 'bigint') {
      const x = Number(v);
      if (x - x !== 0) throw fail(`${at(where, v, i)} is out of range for FP64`);
      out[i] = x;
    } else throw fail(`${at(where, v, i)} is not a number; FP64 takes numbers`);
  }
  return out;
}

/** Strings up to this long are measured and copied in JavaScript when they are ASCII (a native call costs more). */
const SHORT_STRING = 32;

/** The UTF-8 size of `s`: its length when it is short and ASCII, else what Buffer.byteLength says. */
function utf8Size(s: string): number {
  const n = s.length;
  if (n > SHORT_STRING) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** Writes `s` as UTF-8 at `p` (its size is known to fit); returns the bytes written. */
function writeUtf8(bytes: Buffer, s: string, p: number): number {
  const n = s.length;
  if (n <= SHORT_STRING) {
    let i = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      bytes[p + i] = c;
      i++;
    }
    if (i === n) return n;
  }
  return n === 0 ? 0 : bytes.write(s, p, 'utf8');
}

/**
 * Strings and byte arrays as one {@link ByteStrings}: the first pass checks every element and sums the sizes
 * (nothing allocated), the budget is taken, then every element is copied once into one buffer.
 */
function toByteStrings(values: ArrayLike<unknown>, where: string, fail: CodecErrorFactory, budget: TensorBudget | null): ByteStrings {
  const n = values.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'string') total += utf8Size(v);
    else if (v instanceof Uint8Array) total += v.byteLength;
    else throw fail(`${at(where, v, i)} is not a string; BYTES takes strings (or Buffers)`);
  }
  if (budget !== null) budget.take(total + 4 * n, where);
  if (total > MAX_BYTES_TOTAL) throw fail(`${where}: BYTES data of ${total} bytes is over the ${MAX_BYTES_TOTAL} a tensor may hold`);
  const offsets = new Uint32Array(n + 1);
  const bytes = Buffer.allocUnsafe(total);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i] as string | Uint8Array;
    if (typeof v === 'string') p += writeUtf8(bytes, v, p);
    else {
      bytes.set(v, p);
      p += v.byteLength;
    }
    offsets[i + 1] = p;
  }
  return new ByteStrings(bytes, offsets);
}
