/**
 * Half precision (IEEE binary16) and bfloat16 conversions. Both formats are 16 bits wide with the sign
 * in bit 15; values are held widened in JS numbers / Float32Arrays. Encoding rounds to nearest, ties to
 * even, directly from the (double) value, so there is no double rounding; subnormals, ±0, ±Infinity and
 * NaN are kept (NaN becomes the quiet NaN of the format).
 */

/** The largest finite half-precision value. @publicApi */
export const FP16_MAX = 65504;
/** The largest finite bfloat16 value. @publicApi */
export const BF16_MAX = 3.3895313892515355e38;

const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);
/** Index of the high word of a double in `f64Words` (endianness of this host). */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** 2^k for k in -150..150, built by exact doubling/halving. */
const POW2_OFFSET = 150;
const POW2 = new Float64Array(2 * POW2_OFFSET + 1);
POW2[POW2_OFFSET] = 1;
for (let k = 1; k <= POW2_OFFSET; k++) {
  POW2[POW2_OFFSET + k] = POW2[POW2_OFFSET + k - 1] * 2;
  POW2[POW2_OFFSET - k] = POW2[POW2_OFFSET - k + 1] / 2;
}

function pow2(k: number): number {
  return POW2[POW2_OFFSET + k];
}

/** floor(log2(a)) for a finite positive double, read from its exponent bits (-1075 for double subnormals). */
function exponentOf(a: number): number {
  f64[0] = a;
  const field = (f64Words[HIGH] >>> 20) & 0x7ff;
  return field === 0 ? -1075 : field - 1023;
}

function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The value of binary16 bits `bits` (only the low 16 bits are read).
 *
 * @publicApi
 */
export function halfBitsToFloat32(bits: number): number {
  const e = (bits >>> 10) & 0x1f;
  const m = bits & 0x3ff;
  const s = bits & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * pow2(-24);
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1024 + m) * pow2(e - 25);
}

/** Magnitudes from which rounding overflows to Infinity: the largest finite value plus half its step. */
const FP16_OVERFLOW = FP16_MAX + 16;
const BF16_OVERFLOW = BF16_MAX + 2 ** 119;

/** `x` rounded to a 16-bit format in the double domain (same result as encoding and decoding the bits). */
function round16(x: number, mantBits: number, bias: number, overflow: number): number {
  const a = x < 0 ? -x : x;
  if (!(a < overflow)) return a === a ? (x < 0 ? -Infinity : Infinity) : NaN;
  if (a === 0) return x;
  let e = exponentOf(a);
  if (e < 1 - bias) e = 1 - bias;
  const step = pow2(e - mantBits);
  const r = roundHalfEven(a / step) * step;
  return x < 0 ? -r : r;
}

/** `value` rounded to half precision (nearest even), as a number. @publicApi */
export function roundToHalf(value: number): number {
  return round16(value, 10, 15, FP16_OVERFLOW);
}

/** `value` rounded to bfloat16 precision (nearest even), as a number. @publicApi */
export function roundToBf16(value: number): number {
  return round16(value, 7, 127, BF16_OVERFLOW);
}

/**
 * Little-endian binary16 bytes (`count` elements from `bytes`) widened into a Float32Array. Reads bytes
 * one by one, so `bytes` may start at any offset.
 *
 * @internal
 */
export function halfBytesToFloat32Array(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0, p = 0; i < count; i++, p += 2) out[i] = halfBitsToFloat32(bytes[p] | (bytes[p + 1] << 8));
  return out;
}

/**
 * Little-endian bfloat16 bytes (`count` elements from `bytes`) widened into a Float32Array.
 *
 * @internal
 */
export function bf16BytesToFloat32Array(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0, p = 0; i < count; i++, p += 2) outBits[i] = ((bytes[p] | (bytes[p + 1] << 8)) << 16) >>> 0;
  return out;
}

/**
 * The binary16 bits of every element of `values`, rounded on the float32 bits (exact for float32 inputs,
 * the same result as {@link float32ToHalfBits}).
 *
 * @internal
 */
export function float32ArrayToHalfBits(values: Float32Array): Uint16Array {
  const n = values.length;
  const out = new Uint16Array(n);
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  for (let i = 0; i < n; i++) out[i] = float32BitsToHalfBits(bits[i]);
  return out;
}

/** Float32 bits to binary16 bits, round to nearest even. */
function float32BitsToHalfBits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant === 0 ? 0 : 0x200);
  if (exp > 112) {
    // Normal half (or overflow): keep 10 of the 23 fraction bits; a carry may reach the exponent or Infinity.
    if (exp > 142) return sign | 0x7c00;
    let h = ((exp - 112) << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
    return sign | (h > 0x7c00 ? 0x7c00 : h);
  }
  // Subnormal half: the value in units of 2^-24 is m * 2^(exp - 126), m with its implicit bit.
  const shift = 126 - exp;
  if (shift > 24) return sign;
  const m = exp === 0 ? mant : mant | 0x800000;
  let h = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1) === 1)) h++;
  return sign | h;
}

/**
 * The bfloat16 bits of every element of `values`, rounded on the float32 bits (exact for float32 inputs).
 *
 * @internal
 */
export function float32ArrayToBf16Bits(values: Float32Array): Uint16Array {
  const n = values.length;
  const out = new Uint16Array(n);
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const b = bits[i];
    out[i] = (b & 0x7fffffff) > 0x7f800000 ? (b >>> 16) | 0x40 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}
