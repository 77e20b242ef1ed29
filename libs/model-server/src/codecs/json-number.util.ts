import { Buffer } from 'node:buffer';
import { integerTooLong, malformedJson, numberOutOfRange, numberTooLong } from '../errors/codec.errors';
import { MAX_INTEGER_DIGITS, MAX_NUMBER_CHARS } from './json-limits';

/** 10^k for k in 0..22: exact doubles. */
const POW10 = new Float64Array(23);
POW10[0] = 1;
for (let k = 1; k < POW10.length; k++) POW10[k] = POW10[k - 1] * 10;

/** While the mantissa is below this, one more digit keeps it exact (at most 15 digits, below 2^53). */
const MANTISSA_ROOM = 1e14;
/** Exponents are read up to this (any more is as good as infinite for a double). */
const EXPONENT_CAP = 1e9;

/**
 * Reads number literals from JSON bytes that have already been checked to be well-formed. One reader is reused
 * for every number of a pass: `read` fills its fields instead of allocating.
 *
 * `value` is exactly what `JSON.parse` gives (bit for bit): a literal of at most 15 significant digits whose
 * decimal exponent is within ±22 is one correctly rounded multiplication or division of exact doubles; any
 * other is read by `Number()` from its text.
 *
 * @internal
 */
export class JsonNumberReader {
  /** The offset just after the literal. */
  end = 0;
  /** Its value as a double. */
  value = 0;
  /** True when it has no fraction and no exponent. */
  integer = false;
  /** Digits in its integer part. */
  intDigits = 0;
  /** True when it starts with `-`. */
  negative = false;

  read(b: Buffer, p: number): void {
    const start = p;
    const negative = b[p] === 0x2d;
    if (negative) p++;
    const intStart = p;
    let m = 0;
    let scale = 0;
    let exact = true;
    let c = b[p];
    while (c >= 0x30 && c <= 0x39) {
      if (m < MANTISSA_ROOM) m = m * 10 + (c - 0x30);
      else {
        scale++;
        if (c !== 0x30) exact = false;
      }
      c = b[++p];
    }
    this.intDigits = p - intStart;
    let integer = true;
    if (c === 0x2e) {
      integer = false;
      c = b[++p];
      while (c >= 0x30 && c <= 0x39) {
        if (m < MANTISSA_ROOM) {
          m = m * 10 + (c - 0x30);
          scale--;
        } else if (c !== 0x30) exact = false;
        c = b[++p];
      }
    }
    if (c === 0x65 || c === 0x45) {
      integer = false;
      c = b[++p];
      let sign = 1;
      if (c === 0x2d) {
        sign = -1;
        c = b[++p];
      } else if (c === 0x2b) c = b[++p];
      let e = 0;
      while (c >= 0x30 && c <= 0x39) {
        if (e < EXPONENT_CAP) e = e * 10 + (c - 0x30);
        c = b[++p];
      }
      scale += sign * e;
    }
    this.end = p;
    this.integer = integer;
    this.negative = negative;
    let x: number;
    if (exact && scale >= -22 && scale <= 22) x = scale >= 0 ? m * POW10[scale] : m / POW10[-scale];
    else if (m === 0 && exact) x = 0;
    else {
      this.value = Number(b.toString('latin1', start, p));
      return;
    }
    this.value = negative ? -x : x;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Checks the number literal at `p` of a JSON body and returns the offset after it: its grammar (the exact parser's
 * messages), its length (at most {@link MAX_NUMBER_CHARS}, found without reading further), integer literals of at
 * most 20 digits (found before any conversion) and a value within the doubles (`1e999` refused).
 *
 * @internal
 */
export function checkJsonNumber(b: Buffer, p: number): number {
  const start = p;
  const limit = start + MAX_NUMBER_CHARS;
  if (b[p] === 0x2d) p++;
  const intStart = p;
  let c = b[p];
  if (c === 0x30) c = b[++p];
  else if (isDigit(c)) {
    do c = b[++p];
    while (isDigit(c) && p <= limit);
  } else throw malformedJson('invalid number', p);
  const intDigits = p - intStart;
  let integer = true;
  let expDigits = 0;
  if (c === 0x2e) {
    integer = false;
    c = b[++p];
    if (!isDigit(c)) throw malformedJson('invalid number: digits must follow the decimal point', p);
    do c = b[++p];
    while (isDigit(c) && p <= limit);
  }
  if (c === 0x65 || c === 0x45) {
    integer = false;
    c = b[++p];
    if (c === 0x2b || c === 0x2d) c = b[++p];
    if (!isDigit(c)) throw malformedJson('invalid number: digits must follow the exponent', p);
    const expStart = p;
    do c = b[++p];
    while (isDigit(c) && p <= limit);
    expDigits = p - expStart;
  }
  if (p > limit) throw numberTooLong(start, MAX_NUMBER_CHARS);
  if (integer) {
    if (intDigits > MAX_INTEGER_DIGITS) throw integerTooLong(b.toString('latin1', start, p), intDigits, start, MAX_INTEGER_DIGITS);
  } else if (expDigits >= 3 || intDigits > 200) {
    // Only a literal with a 3-digit exponent or hundreds of digits can be beyond the largest double.
    const literal = b.toString('latin1', start, p);
    const x = Number(literal);
    if (x - x !== 0) throw numberOutOfRange(literal, start);
  }
  return p;
}
