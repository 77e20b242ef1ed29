import { formatBf16, formatFloat32, formatFloat64, formatHalf } from './float-format.util';
import { roundToBf16, roundToHalf } from './fp16.util';

describe('formatFloat32', () => {
  it('writes the shortest decimal that reads back to the same float32', () => {
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Math.fround(1 / 3))).toBe('0.33333334');
    expect(formatFloat32(Math.fround(1e-7))).toBe('1e-7');
    expect(formatFloat32(3.4028234663852886e38)).toBe('3.4028235e+38');
    expect(formatFloat32(1.401298464324817e-45)).toBe('1e-45');
    expect(formatFloat32(Math.fround(123456789))).toBe('123456792'); // 123456790 is no shorter: keep the exact value
    expect(formatFloat32(Math.fround(1e-20))).toBe('1e-20');
    expect(formatFloat32(Math.fround(1.5e30))).toBe('1.5e+30');
  });

  it('takes String(v) as it is when already short', () => {
    expect(formatFloat32(2.5)).toBe('2.5');
    expect(formatFloat32(-1024)).toBe('-1024');
    expect(formatFloat32(16777216)).toBe('16777216');
    expect(formatFloat32(0)).toBe('0');
    expect(formatFloat32(-0)).toBe('-0.0');
  });

  it('reads back to the same float32 with the fewest digits (random bit patterns and typical magnitudes)', () => {
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    let seed = 7;
    for (let i = 0; i < 20000; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      bits[0] = seed;
      if (Number.isFinite(f[0])) checkShortest(f[0], Math.fround, formatFloat32);
      const typical = Math.fround((seed / 2 ** 32 - 0.5) * 10 ** ((i % 24) - 12));
      checkShortest(typical, Math.fround, formatFloat32);
      // What clients send: decimals of up to 6 digits come back as written.
      const written = Number(`${seed % 1_000_000}e${(i % 13) - 13}`);
      expect(formatFloat32(Math.fround(written))).toBe(String(written));
    }
  });
});

/**
 * `format(v)` reads back to `v` through `round`, is no longer than String(v), and has no more significant
 * digits than the slowest exact search (linear toPrecision) needs, unless it is String(v) itself.
 */
function checkShortest(v: number, round: (x: number) => number, format: (x: number) => string): void {
  const text = format(v);
  if (v === 0) {
    if (text !== (Object.is(v, -0) ? '-0.0' : '0')) throw new Error(`zero written as ${text}`);
    return;
  }
  if (round(Number(text)) !== v) throw new Error(`${v} written as ${text}`);
  if (String(Number(text)) !== text) throw new Error(`${text} is not in the form String() writes`);
  if (text.length > String(v).length) throw new Error(`${text} is longer than ${String(v)}`);
  if (text === String(v)) return;
  let p = 1;
  while (round(Number(v.toPrecision(p))) !== v) p++;
  const digits = text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
  if (digits > p) throw new Error(`${v} written as ${text}, ${p} digits suffice`);
}

describe('formatHalf and formatBf16', () => {
  it('write half values at half precision', () => {
    expect(formatHalf(roundToHalf(0.1))).toBe('0.1');
    expect(formatHalf(65504)).toBe('65504');
    expect(formatHalf(5.960464477539063e-8)).toBe('6e-8');
    expect(formatHalf(roundToHalf(1 / 3))).toBe('0.3333');
  });

  it('write bfloat16 values at bfloat16 precision', () => {
    expect(formatBf16(roundToBf16(0.1))).toBe('0.1');
    expect(formatBf16(3.3895313892515355e38)).toBe('3.39e+38');
    expect(formatBf16(roundToBf16(1 / 3))).toBe('0.334');
  });

  it('every finite half and bfloat16 value reads back exactly with the fewest digits', () => {
    for (let b = 0; b < 0x10000; b++) {
      const h = roundToHalf(halfBitsValue(b));
      if (!Number.isFinite(h)) continue;
      checkShortest(h, roundToHalf, formatHalf);
    }
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let b = 0; b < 0x10000; b++) {
      u[0] = b << 16;
      const v = f[0];
      if (!Number.isFinite(v)) continue;
      checkShortest(v, roundToBf16, formatBf16);
    }
  });
});

describe('formatFloat64', () => {
  it('writes String(v), and -0 as -0.0', () => {
    expect(formatFloat64(0.1)).toBe('0.1');
    expect(formatFloat64(1.7976931348623157e308)).toBe('1.7976931348623157e+308');
    expect(formatFloat64(5e-324)).toBe('5e-324');
    expect(formatFloat64(-0)).toBe('-0.0');
  });
});

function halfBitsValue(bits: number): number {
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  const s = bits & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1024 + m) * 2 ** (e - 25);
}
