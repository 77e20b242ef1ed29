import { roundToBf16, roundToHalf } from './fp16.util';

/** 10^k for k in 0..22: exact doubles, so d / 10^k and d * 10^k are correctly rounded for integers d < 2^53. */
const POW10 = new Float64Array(23);
POW10[0] = 1;
for (let k = 1; k < POW10.length; k++) POW10[k] = POW10[k - 1] * 10;

/** Decimal exponents for which every scaling below stays exact (p ≤ 9 digits, |scale| ≤ 22). */
const FAST_MIN_EXPONENT = -13;
const FAST_MAX_EXPONENT = 21;

/** a × 10^k (k in -22..22), correctly rounded. */
function scale(a: number, k: number): number {
  return k >= 0 ? a * POW10[k] : a / POW10[-k];
}

/** d × 10^-k (k in -22..22), correctly rounded: the double a client parses from that decimal. */
function unscale(d: number, k: number): number {
  return k >= 0 ? d / POW10[k] : d * POW10[-k];
}

/** 10^k for k in -24..23 as doubles (10^-k correctly rounded, as 1 / 10^k gives it), at index k + 24. */
const POW10_BOUNDS = new Float64Array(48);
for (let k = -24; k < 24; k++) POW10_BOUNDS[k + 24] = k >= 0 ? POW10[k] : 1 / POW10[-k];
/** A double's bits, to read its binary exponent. */
const BITS = new Float64Array(1);
const BITS_WORDS = new Uint32Array(BITS.buffer);
/** The index of the high 32-bit word (sign, exponent) on this host. */
const BITS_HI = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * floor(log10(a)) for a positive double, corrected where Math.log10 is off at powers of ten. Within about
 * 1e-22..1e22 it comes from the binary exponent and the table of powers of ten (no logarithm).
 */
function decimalExponent(a: number): number {
  BITS[0] = a;
  const binary = ((BITS_WORDS[BITS_HI] >>> 20) & 0x7ff) - 1023;
  if (binary > -70 && binary < 70) {
    // a is in [2^binary, 2^(binary+1)): floor(log10(a)) is this estimate or one more.
    const e = Math.floor(binary * 0.30102999566398120);
    return a >= POW10_BOUNDS[e + 25] ? e + 1 : e;
  }
  const e = Math.floor(Math.log10(a));
  if (e < -22 || e > 21) return e;
  if (a < (e >= 0 ? POW10[e] : 1 / POW10[-e])) return e - 1;
  if (a >= (e + 1 >= 0 ? POW10[e + 1] : 1 / POW10[-e - 1])) return e + 1;
  return e;
}

/**
 * The integer digits D of a `p`-digit decimal D × 10^-(p-1-e) that `round` maps back to `a`, or -1.
 * Only the two p-digit decimals around `a` can qualify; the nearer is tried first.
 */
function digitsFor(a: number, p: number, e: number, round: (x: number) => number): number {
  const k = p - 1 - e;
  const scaled = scale(a, k);
  const lower = Math.floor(scaled);
  const upperFirst = scaled - lower >= 0.5;
  const first = upperFirst ? lower + 1 : lower;
  if (round(unscale(first, k)) === a) return first;
  const second = upperFirst ? lower : lower + 1;
  return round(unscale(second, k)) === a ? second : -1;
}

/**
 * Significant digits of a number as `String()` writes it (leading zeros and trailing zeros of an
 * integer part not counted; the exponent ignored).
 */
function significantDigits(s: string): number {
  let counted = 0;
  let significant = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 101 /* e */) break;
    if (c < 48 || c > 57) continue;
    if (c === 48 && counted === 0) continue;
    counted++;
    if (c !== 48) significant = counted;
  }
  return significant;
}

/**
 * The shortest decimal that `round` (the format's rounding of a parsed double) maps back to `v`, as the double a
 * client parses from it: `String()` (and `JSON.stringify`) of the result writes that decimal. NaN when only the text search ({@link shortestByPrecision}) finds it
 * (`v` outside about 1e-13..1e21) or when `v` is -0 (written `-0.0`). `v` must be finite and a value of the format;
 * `maxDigits` digits always suffice for the format.
 *
 * - Cheap path: when `v` is itself a decimal of at most `cheapDigits` significant digits (a client's `0.5`,
 *   `12`), `v` is the answer: within the format's precision no shorter decimal can round back.
 * - Otherwise the fewest digits p are searched with plain arithmetic (whether some p-digit decimal rounds back
 *   is monotonic in p; `cheapDigits` and one fewer are tried first, then up or down from there), and those
 *   digits scaled by an exact power of ten (correctly rounded: the double nearest the decimal, whose shortest
 *   form is that decimal); when `v` is itself a short decimal or an
 *   integer that is no longer, `v` wins (65504 stays 65504 rather than 65500).
 */
function shortestValue(v: number, round: (x: number) => number, cheapDigits: number, maxDigits: number): number {
  if (v === 0) return 1 / v < 0 ? NaN : 0;
  const a = v < 0 ? -v : v;
  const e = decimalExponent(a);
  if (e < FAST_MIN_EXPONENT || e > FAST_MAX_EXPONENT) return NaN;
  // Is v itself a short decimal (an integer, or at most maxDigits digits)? Then String(v) is short too.
  const exactK = maxDigits - 1 - e;
  const exactScaled = scale(a, exactK);
  let exact: string | undefined;
  if (Number.isInteger(a) || (Number.isInteger(exactScaled) && unscale(exactScaled, exactK) === a)) {
    exact = String(v);
    if (significantDigits(exact) <= cheapDigits) return v;
  }
  // Most values need about cheapDigits digits (what a client wrote): look there first, then one digit fewer.
  let p = cheapDigits;
  let digits = digitsFor(a, p, e, round);
  if (digits < 0) {
    do {
      if (++p > maxDigits) return NaN;
      digits = digitsFor(a, p, e, round);
    } while (digits < 0);
  } else {
    const fewer = digitsFor(a, p - 1, e, round);
    if (fewer >= 0) {
      // Shorter still: binary-search 1 .. p-1.
      let lo = 1;
      let hi = p - 1;
      digits = fewer;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const found = digitsFor(a, mid, e, round);
        if (found >= 0) {
          hi = mid;
          digits = found;
        } else lo = mid + 1;
      }
      p = lo;
    }
  }
  const d = unscale(digits, p - 1 - e);
  const value = v < 0 ? -d : d;
  return exact !== undefined && exact.length <= String(value).length ? v : value;
}

/** The text of {@link shortestValue}: `-0.0` for -0, the slow search where it gives NaN. */
function shortestDecimal(v: number, round: (x: number) => number, cheapDigits: number, maxDigits: number): string {
  if (v === 0 && 1 / v < 0) return '-0.0';
  const d = shortestValue(v, round, cheapDigits, maxDigits);
  return d === d ? String(d) : shortestByPrecision(v, round, maxDigits);
}

/** The slow search: the fewest digits p for which `v.toPrecision(p)` rounds back to `v`. */
function shortestByPrecision(v: number, round: (x: number) => number, maxDigits: number): string {
  const s = String(v);
  let lo = 1;
  let hi = maxDigits;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (round(Number(v.toPrecision(mid))) === v) hi = mid;
    else lo = mid + 1;
  }
  const t = v.toPrecision(lo);
  if (round(Number(t)) !== v) return s;
  return t.length < s.length ? t : s;
}

/**
 * The shortest decimal text that parses (as a double, then rounded to float32) back to the float32 `v`,
 * e.g. `0.1` for Math.fround(0.1). `-0` is written `-0.0`. `v` must be finite.
 *
 * @publicApi
 */
export function formatFloat32(v: number): string {
  return shortestDecimal(v, Math.fround, 7, 9);
}

/**
 * The shortest decimal text that rounds back (to half precision) to the half value `v`. `v` must be finite.
 *
 * @publicApi
 */
export function formatHalf(v: number): string {
  return shortestDecimal(v, roundToHalf, 3, 5);
}

/**
 * The shortest decimal text that rounds back (to bfloat16) to the bfloat16 value `v`. `v` must be finite.
 *
 * @publicApi
 */
export function formatBf16(v: number): string {
  return shortestDecimal(v, roundToBf16, 2, 4);
}

/**
 * A double as JSON text: `String(v)` (already the shortest round-trip form), `-0` as `-0.0`. `v` must be finite.
 *
 * @publicApi
 */
export function formatFloat64(v: number): string {
  return v === 0 && 1 / v < 0 ? '-0.0' : String(v);
}

/**
 * {@link formatFloat32}, {@link formatHalf} (format 1) or {@link formatBf16} (format 2) as a double whose `String()`
 * is that text, or NaN when the text must be written by the format function (-0, magnitudes outside about
 * 1e-13..1e21). `v` must be finite and a value of the format.
 *
 * @internal
 */
export function shortestFormatValue(v: number, format: 0 | 1 | 2): number {
  return format === 0 ? shortestValue(v, Math.fround, 7, 9) : format === 1 ? shortestValue(v, roundToHalf, 3, 5) : shortestValue(v, roundToBf16, 2, 4);
}
