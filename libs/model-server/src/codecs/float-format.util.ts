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

/** What {@link shortestDigits} found: the slow text search is needed (-0, or `v` outside about 1e-13..1e21). */
const SLOW = 0;
/** What {@link shortestDigits} found: `String(v)` itself (an integer of more digits than the search gives). */
const ITSELF = 1;
/** What {@link shortestDigits} found: the decimal {@link foundDigits} × 10^-{@link foundScale}, sign aside. */
const FOUND = 2;
/** The digits of a FOUND decimal, without trailing zeros (0 for zero). */
let foundDigits = 0;
/** The power of ten a FOUND decimal's digits are divided by. */
let foundScale = 0;

/** Digits of a positive integer below 10^22. */
function digitCount(d: number): number {
  if (d < 1e5) return d < 10 ? 1 : d < 100 ? 2 : d < 1000 ? 3 : d < 1e4 ? 4 : 5;
  if (d < 1e9) return d < 1e6 ? 6 : d < 1e7 ? 7 : d < 1e8 ? 8 : 9;
  let n = 10;
  while (n < 22 && d >= POW10[n]) n++;
  return n;
}

/** Sets the FOUND decimal, trailing zeros of its digits dropped. */
function found(digits: number, k: number): number {
  if (digits !== 0) {
    while (digits % 10 === 0) {
      digits /= 10;
      k--;
    }
  }
  foundDigits = digits;
  foundScale = k;
  return FOUND;
}

/** The length of the decimal `digits` × 10^-k (digits without trailing zeros) as `Number.prototype.toString` writes it. */
function decimalLength(digits: number, k: number): number {
  const len = digitCount(digits);
  const n = len - k; // the decimal point sits after n digits
  if (len <= n && n <= 21) return n;
  if (0 < n && n <= 21) return len + 1;
  if (-6 < n && n <= 0) return 2 - n + len;
  const exponent = n - 1 < 0 ? 1 - n : n - 1;
  return (len === 1 ? 1 : len + 1) + 2 + digitCount(exponent);
}

/**
 * Finds the shortest decimal that `round` (the format's rounding of a parsed double) maps back to `v`, written as
 * `String()` would write that decimal: {@link FOUND} (the decimal in {@link foundDigits} / {@link foundScale}),
 * {@link ITSELF} or {@link SLOW}. `v` must be finite and a value of the format; `maxDigits` digits always suffice
 * for the format. No string is made on the usual paths.
 *
 * - Cheap path: when `v` is itself a decimal of at most `cheapDigits` significant digits (a client's `0.5`,
 *   `12`), that decimal: within the format's precision no shorter decimal can round back.
 * - Otherwise the fewest digits p are searched with plain arithmetic (whether some p-digit decimal rounds back
 *   is monotonic in p; `cheapDigits` and one fewer are tried first, then up or down from there); when `v` is
 *   itself a short decimal or an integer that is no longer, `v` wins (65504 stays 65504 rather than 65500).
 * - Outside about 1e-13..1e21, where that arithmetic would not be exact, and for -0: SLOW.
 */
function shortestDigits(v: number, round: (x: number) => number, cheapDigits: number, maxDigits: number): number {
  if (v === 0) return 1 / v < 0 ? SLOW : found(0, 0);
  const a = v < 0 ? -v : v;
  const e = decimalExponent(a);
  if (e < FAST_MIN_EXPONENT || e > FAST_MAX_EXPONENT) return SLOW;
  // Is v itself a short decimal (at most maxDigits digits, or an integer)? Then its own text is short too.
  const exactK = maxDigits - 1 - e;
  const exactScaled = scale(a, exactK);
  let exactLength = 0;
  let exactDigits = -1;
  let exactScale = 0;
  if (Number.isInteger(exactScaled) && unscale(exactScaled, exactK) === a) {
    found(exactScaled, exactK);
    if (digitCount(foundDigits) <= cheapDigits) return FOUND;
    exactDigits = foundDigits;
    exactScale = foundScale;
    exactLength = decimalLength(exactDigits, exactScale);
  } else if (Number.isInteger(a)) {
    const text = String(a);
    if (significantDigits(text) <= cheapDigits) return ITSELF;
    exactLength = text.length;
  }
  // Most values need about cheapDigits digits (what a client wrote): look there first, then one digit fewer.
  let p = cheapDigits;
  let digits = digitsFor(a, p, e, round);
  if (digits < 0) {
    do {
      if (++p > maxDigits) return SLOW;
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
        const next = digitsFor(a, mid, e, round);
        if (next >= 0) {
          hi = mid;
          digits = next;
        } else lo = mid + 1;
      }
      p = lo;
    }
  }
  found(digits, p - 1 - e);
  if (exactLength === 0 || exactLength > decimalLength(foundDigits, foundScale)) return FOUND;
  if (exactDigits < 0) return ITSELF;
  foundDigits = exactDigits;
  foundScale = exactScale;
  return FOUND;
}

/**
 * Writes the FOUND decimal ({@link foundDigits} × 10^-{@link foundScale}) as ASCII at `out[at]`, the way
 * `Number.prototype.toString` writes that number (fixed notation for 1e-7 ≤ x < 1e21, else exponential), `-` in
 * front when `negative`. Returns the offset after it.
 */
function writeFound(out: Uint8Array, at: number, negative: boolean): number {
  // Below 10^9 (maxDigits is at most 9): small-integer arithmetic.
  let digits = foundDigits | 0;
  if (negative) out[at++] = 0x2d;
  if (digits === 0) {
    out[at] = 0x30;
    return at + 1;
  }
  const len = digitCount(digits);
  const n = len - foundScale; // the decimal point sits after n digits
  let exponent = 0;
  let point = -1; // digits written before the point (-1: none)
  if (len <= n && n <= 21) {
    // digits then zeros, below
  } else if (0 < n && n <= 21) point = n;
  else if (-6 < n && n <= 0) {
    out[at++] = 0x30;
    out[at++] = 0x2e;
    for (let z = 0; z < -n; z++) out[at++] = 0x30;
  } else {
    exponent = n - 1;
    if (len > 1) point = 1;
  }
  // The digits, last first, with the point among them.
  const total = len + (point > 0 ? 1 : 0);
  let q = at + total - 1;
  for (let j = len - 1; j >= 0; j--) {
    const rest = (digits / 10) | 0;
    out[q--] = 0x30 + digits - rest * 10;
    digits = rest;
    if (j === point) out[q--] = 0x2e;
  }
  at += total;
  if (len <= n && n <= 21) for (let z = len; z < n; z++) out[at++] = 0x30;
  else if (!(0 < n && n <= 21) && !(-6 < n && n <= 0)) {
    out[at++] = 0x65;
    out[at++] = exponent < 0 ? 0x2d : 0x2b;
    let x = exponent < 0 ? -exponent : exponent;
    const width = digitCount(x);
    for (let j = width - 1; j >= 0; j--) {
      out[at + j] = 0x30 + (x % 10);
      x = Math.floor(x / 10);
    }
    at += width;
  }
  return at;
}

/** The text of {@link shortestDigits}: `-0.0` for -0, the slow search where it says SLOW. */
function shortestDecimal(v: number, round: (x: number) => number, cheapDigits: number, maxDigits: number): string {
  const how = shortestDigits(v, round, cheapDigits, maxDigits);
  if (how === FOUND) {
    const d = unscale(foundDigits, foundScale);
    // The double nearest the decimal: its shortest form, which String() writes, is that decimal.
    return String(v < 0 ? -d : d);
  }
  if (how === ITSELF) return String(v);
  return v === 0 ? '-0.0' : shortestByPrecision(v, round, maxDigits);
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
 * The most ASCII bytes {@link writeShortest} writes for one value (`-1.1754942e-38`, or an integer of up to 21
 * digits and its sign).
 *
 * @internal
 */
export const MAX_SHORTEST_BYTES = 24;

/**
 * Writes {@link formatFloat32} (format 0), {@link formatHalf} (1) or {@link formatBf16} (2) of `v` as ASCII at
 * `out[at]`, without making a string on the usual paths; returns the offset after it (at most
 * {@link MAX_SHORTEST_BYTES} further). `v` must be finite and a value of the format.
 *
 * @internal
 */
export function writeShortest(v: number, format: 0 | 1 | 2, out: Uint8Array, at: number): number {
  const how = format === 0 ? shortestDigits(v, Math.fround, 7, 9) : format === 1 ? shortestDigits(v, roundToHalf, 3, 5) : shortestDigits(v, roundToBf16, 2, 4);
  if (how === FOUND) return writeFound(out, at, v < 0);
  const text = how === ITSELF ? String(v) : format === 0 ? formatFloat32(v) : format === 1 ? formatHalf(v) : formatBf16(v);
  for (let j = 0; j < text.length; j++) out[at + j] = text.charCodeAt(j);
  return at + text.length;
}
