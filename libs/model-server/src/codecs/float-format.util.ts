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

/** floor(log10(a)) for a positive double, corrected where Math.log10 is off at powers of ten. */
function decimalExponent(a: number): number {
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
 * Writes the decimal `digits` × 10^-k the way `Number.prototype.toString` writes that number
 * (fixed notation for 1e-7 ≤ x < 1e21, else exponential), with `sign` in front.
 */
function writeDecimal(sign: string, digits: number, k: number): string {
  while (digits % 10 === 0) {
    digits /= 10;
    k--;
  }
  const s = String(digits);
  const len = s.length;
  const n = len - k; // the decimal point sits after n digits
  if (len <= n && n <= 21) return sign + s + '0'.repeat(n - len);
  if (0 < n && n <= 21) return sign + s.slice(0, n) + '.' + s.slice(n);
  if (-6 < n && n <= 0) return sign + '0.' + '0'.repeat(-n) + s;
  const exponent = n - 1;
  const mantissa = len === 1 ? s : s[0] + '.' + s.slice(1);
  return sign + mantissa + (exponent < 0 ? 'e' : 'e+') + exponent;
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
 * The shortest decimal text that `round` (the format's rounding of a parsed double) maps back to `v`,
 * written like `String()` would write that decimal. `v` must be finite and a value of the format;
 * `maxDigits` digits always suffice for the format.
 *
 * - Cheap path: when `v` is itself a decimal of at most `cheapDigits` significant digits (a client's `0.5`,
 *   `12`), `String(v)` is taken: within the format's precision no shorter decimal can round back.
 * - Otherwise the fewest digits p are binary-searched with plain arithmetic (whether some p-digit decimal
 *   rounds back is monotonic in p), and the digits found are written directly; when `v` is itself a
 *   short decimal or an integer that is no longer, `String(v)` wins (65504 stays 65504 rather than 65500).
 * - Outside about 1e-13..1e21, where that arithmetic would not be exact, `toPrecision(p)` is searched.
 */
function shortestDecimal(v: number, round: (x: number) => number, cheapDigits: number, maxDigits: number): string {
  if (v === 0) return 1 / v < 0 ? '-0.0' : '0';
  const a = v < 0 ? -v : v;
  const e = decimalExponent(a);
  if (e < FAST_MIN_EXPONENT || e > FAST_MAX_EXPONENT) return shortestByPrecision(v, round, maxDigits);
  // Is v itself a short decimal (an integer, or at most maxDigits digits)? Then String(v) is short too.
  const exactK = maxDigits - 1 - e;
  const exactScaled = scale(a, exactK);
  let exact: string | undefined;
  if (Number.isInteger(a) || (Number.isInteger(exactScaled) && unscale(exactScaled, exactK) === a)) {
    exact = String(v);
    if (significantDigits(exact) <= cheapDigits) return exact;
  }
  let lo = 1;
  let hi = maxDigits;
  let digits = digitsFor(a, hi, e, round);
  if (digits < 0) return shortestByPrecision(v, round, maxDigits);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const found = digitsFor(a, mid, e, round);
    if (found >= 0) {
      hi = mid;
      digits = found;
    } else lo = mid + 1;
  }
  const text = writeDecimal(v < 0 ? '-' : '', digits, lo - 1 - e);
  return exact !== undefined && exact.length <= text.length ? exact : text;
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
