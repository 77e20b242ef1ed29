import {
  BF16_MAX,
  float32ArrayToBf16Bits,
  float32ArrayToHalfBits,
  halfBitsToFloat32,
  halfBytesToFloat32Array,
  roundToBf16,
  roundToHalf,
} from './fp16.util';

// Scalar oracles the array encoders are checked against: one value at a time, from the exponent and a
// rounding of the quotient, not the bit tricks of the production code.

/** 2^k, by exact doubling or halving. */
function pow2(k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r *= 2;
  for (let i = 0; i > k; i--) r /= 2;
  return r;
}

/** floor(log2(a)) for a finite positive double, from its exponent bits (-1075 for double subnormals). */
function exponentOf(a: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const field = (view.getUint16(0) >>> 4) & 0x7ff;
  return field === 0 ? -1075 : field - 1023;
}

function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f;
  if (d !== 0.5) return d > 0.5 ? f + 1 : f;
  return f % 2 === 0 ? f : f + 1;
}

/** `x` as a 16-bit float with `mantBits` fraction bits and exponent bias `bias`, rounded to nearest even. */
function encode16(x: number, mantBits: number, bias: number): number {
  const infBits = 0x7fff & ~((1 << mantBits) - 1);
  if (x !== x) return infBits | (1 << (mantBits - 1));
  const sign = x < 0 || (x === 0 && 1 / x < 0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === 0) return sign;
  if (a === Infinity) return sign | infBits;
  const e = exponentOf(a);
  if (e > bias) return sign | infBits;
  const emin = 1 - bias;
  if (e < emin) return sign | roundHalfEven(a / pow2(emin - mantBits)); // subnormal; a carry is the smallest normal
  const m = roundHalfEven(a / pow2(e - mantBits));
  const bits = ((e + bias) << mantBits) + (m - (1 << mantBits));
  return sign | (bits >= infBits ? infBits : bits);
}

const float32ToHalfBits = (value: number): number => encode16(value, 10, 15);
const float32ToBf16Bits = (value: number): number => encode16(value, 7, 127);
/** bfloat16 bits are the high half of a float32. */
const bf16BitsToFloat32 = (bits: number): number => new Float32Array(new Uint32Array([(bits & 0xffff) << 16]).buffer)[0];

describe('half precision', () => {
  it('encodes known values', () => {
    expect(float32ToHalfBits(1)).toBe(0x3c00);
    expect(float32ToHalfBits(-2)).toBe(0xc000);
    expect(float32ToHalfBits(0.5)).toBe(0x3800);
    expect(float32ToHalfBits(65504)).toBe(0x7bff);
    expect(float32ToHalfBits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(float32ToHalfBits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToHalfBits(0)).toBe(0x0000);
    expect(float32ToHalfBits(-0)).toBe(0x8000);
    expect(float32ToHalfBits(Infinity)).toBe(0x7c00);
    expect(float32ToHalfBits(-Infinity)).toBe(0xfc00);
    expect(float32ToHalfBits(NaN)).toBe(0x7e00);
  });

  it('rounds to nearest, ties to even', () => {
    expect(float32ToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie, down to even
    expect(float32ToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, up to even
    expect(float32ToHalfBits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(float32ToHalfBits(2 ** -25)).toBe(0x0000); // half the smallest subnormal: tie to 0
    expect(float32ToHalfBits(3 * 2 ** -26)).toBe(0x0001);
    expect(float32ToHalfBits(2 ** -14 - 2 ** -25)).toBe(0x0400); // subnormal carrying into the smallest normal
    expect(float32ToHalfBits(65519.99)).toBe(0x7bff);
    expect(float32ToHalfBits(65520)).toBe(0x7c00); // tie between 65504 and 2^16: even is Infinity
    expect(float32ToHalfBits(1e6)).toBe(0x7c00);
  });

  it('decodes every bit pattern and encodes it back to the same bits', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const v = halfBitsToFloat32(bits);
      const exponent = (bits >> 10) & 0x1f;
      if (exponent === 31 && (bits & 0x3ff) !== 0) {
        expect(v).toBeNaN();
        continue;
      }
      if (float32ToHalfBits(v) !== bits) throw new Error(`bits ${bits.toString(16)} -> ${v} -> ${float32ToHalfBits(v).toString(16)}`);
    }
    expect(halfBitsToFloat32(0x7bff)).toBe(65504);
    expect(halfBitsToFloat32(0x0001)).toBe(5.960464477539063e-8);
    expect(Object.is(halfBitsToFloat32(0x8000), -0)).toBe(true);
    expect(halfBitsToFloat32(0xfc00)).toBe(-Infinity);
  });

  it('rounds values to half precision', () => {
    expect(roundToHalf(0.1)).toBe(0.0999755859375);
    expect(roundToHalf(65504)).toBe(65504);
    expect(roundToHalf(65520)).toBe(Infinity);
  });

  it('converts arrays both ways and reads unaligned little-endian bytes', () => {
    const bits = float32ArrayToHalfBits(new Float32Array([1, -2, 65504]));
    expect(Array.from(bits)).toEqual([0x3c00, 0xc000, 0x7bff]);
    const backing = new Uint8Array(5);
    backing.set([0x00, 0x3c, 0x00, 0xc0], 1);
    expect(Array.from(halfBytesToFloat32Array(backing.subarray(1), 2))).toEqual([1, -2]);
  });
});

describe('bfloat16', () => {
  it('encodes known values', () => {
    expect(float32ToBf16Bits(1)).toBe(0x3f80);
    expect(float32ToBf16Bits(-2)).toBe(0xc000);
    expect(float32ToBf16Bits(BF16_MAX)).toBe(0x7f7f);
    expect(float32ToBf16Bits(2 ** -133)).toBe(0x0001); // smallest subnormal
    expect(float32ToBf16Bits(-0)).toBe(0x8000);
    expect(float32ToBf16Bits(Infinity)).toBe(0x7f80);
    expect(float32ToBf16Bits(NaN)).toBe(0x7fc0);
    expect(float32ToBf16Bits(3.4028234663852886e38)).toBe(0x7f80); // float32 max overflows
  });

  it('rounds to nearest, ties to even', () => {
    expect(float32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(float32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(roundToBf16(0.1)).toBe(0.10009765625);
  });

  it('decodes every bit pattern and encodes it back to the same bits', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const v = bf16BitsToFloat32(bits);
      if (v !== v) continue;
      if (float32ToBf16Bits(v) !== bits) throw new Error(`bits ${bits.toString(16)} -> ${v}`);
    }
  });

  it('rounds float32 arrays on their bits exactly like the value rounding', () => {
    const values = new Float32Array(2000);
    let seed = 12345;
    for (let i = 0; i < values.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      values[i] = (seed / 2 ** 32 - 0.5) * 10 ** ((i % 20) - 10);
    }
    values[0] = 1 + 2 ** -8;
    values[1] = -0;
    values[2] = Infinity;
    const bits = float32ArrayToBf16Bits(values);
    for (let i = 0; i < values.length; i++) expect(bits[i]).toBe(float32ToBf16Bits(values[i]));
    expect(float32ArrayToBf16Bits(new Float32Array([NaN]))[0]).toBe(0x7fc0);
  });
});

describe('fast paths agree with the reference conversions', () => {
  it('roundToHalf / roundToBf16 equal encoding then decoding the bits', () => {
    let seed = 99;
    const specials = [0, -0, 65504, 65519.99, 65520, -65520, 2 ** -25, 3 * 2 ** -26, 2 ** -24, 1e-30, 1 + 2 ** -11, 3.4e38, 1e39, Infinity];
    const values: number[] = [...specials];
    for (let i = 0; i < 50000; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      values.push((seed / 2 ** 32 - 0.5) * 2 ** ((i % 80) - 40));
    }
    for (const x of values) {
      const half = halfBitsToFloat32(float32ToHalfBits(x));
      const bf = bf16BitsToFloat32(float32ToBf16Bits(x));
      if (!Object.is(roundToHalf(x), half)) throw new Error(`roundToHalf(${x}) = ${roundToHalf(x)}, bits give ${half}`);
      if (!Object.is(roundToBf16(x), bf)) throw new Error(`roundToBf16(${x}) = ${roundToBf16(x)}, bits give ${bf}`);
    }
    expect(roundToHalf(NaN)).toBeNaN();
    expect(roundToBf16(NaN)).toBeNaN();
  });

  it('float32ArrayToHalfBits equals float32ToHalfBits on every float32 exponent', () => {
    const values = new Float32Array(30000);
    const bits = new Uint32Array(values.buffer);
    let seed = 5;
    for (let i = 0; i < values.length; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      bits[i] = seed;
    }
    values.set([0, -0, 65504, 65519.99609375, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14 - 2 ** -25, 1.401298464324817e-45], 0);
    const fast = float32ArrayToHalfBits(values);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const expected = v !== v ? 0x7e00 | (bits[i] >>> 16 & 0x8000) : float32ToHalfBits(v);
      if (fast[i] !== expected) throw new Error(`${v} (0x${bits[i].toString(16)}): fast 0x${fast[i].toString(16)}, reference 0x${expected.toString(16)}`);
    }
    expect(fast[2]).toBe(0x7bff);
    expect(fast[4]).toBe(0x7c00);
  });
});
