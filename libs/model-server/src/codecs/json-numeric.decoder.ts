import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { Datatype } from '../model/datatype';
import { roundToBf16, roundToHalf } from './fp16.util';
import { convertElement, elementValue } from './json-element.util';
import { JsonNumberReader } from './json-number.util';
import type { SlicedWork } from './time-slice.util';
import type { CodecErrorFactory } from '../errors';

/** The typed containers of the numeric datatypes and BOOL. */
export type NumericContainer =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** How elements are checked and stored. */
const BOOL = 0;
const SMALL_INT = 1;
const INT64 = 2;
const UINT64 = 3;
const FP32 = 4;
const FP16 = 5;
const BF16 = 6;
const FP64 = 7;

const TWO_32 = 4294967296;
/** 10^k for k in 0..15: exact doubles (a fraction of at most 15 digits is one correctly rounded division). */
const POW10 = new Float64Array(16);
POW10[0] = 1;
for (let k = 1; k < POW10.length; k++) POW10[k] = POW10[k - 1] * 10;
const TWO_31 = 2147483648;
/** Index of the low and high 32-bit word of a 64-bit integer on this host. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
/** Elements between clock checks. */
const FUEL = 4096;

/** The range of each small integer datatype. */
const RANGES: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
};

function kindOf(dt: Datatype): number {
  switch (dt) {
    case 'BOOL':
      return BOOL;
    case 'INT64':
      return INT64;
    case 'UINT64':
      return UINT64;
    case 'FP32':
      return FP32;
    case 'FP16':
      return FP16;
    case 'BF16':
      return BF16;
    case 'FP64':
      return FP64;
    default:
      return SMALL_INT;
  }
}

/**
 * Converts the elements of a well-formed JSON tensor-data array (`start`..`end` of the body, nested or flat) into
 * `out`, element by element from the bytes: no JS value per element. Every element is checked as the shared
 * converter checks it (integers in range and not fractional, floats that would overflow their format refused,
 * FP16/BF16 rounded, BOOL true/false/0/1, INT64/UINT64 exact to their limits); a value the fast paths do not take
 * goes to the converter, which either converts it or gives its error with the element's index. Runs in slices.
 *
 * The caller has checked that the array holds exactly `out.length` elements.
 *
 * @internal
 */
export class NumericSpanDecoder implements SlicedWork {
  private p: number;
  private i = 0;
  private readonly kind: number;
  private readonly min: number;
  private readonly max: number;
  private readonly words: Uint32Array | null;
  private readonly number = new JsonNumberReader();

  constructor(
    private readonly b: Buffer,
    start: number,
    private readonly end: number,
    private readonly dt: Datatype,
    private readonly out: NumericContainer,
    private readonly where: string,
    private readonly fail: CodecErrorFactory,
  ) {
    this.p = start;
    this.kind = kindOf(dt);
    const range = RANGES[dt];
    this.min = range === undefined ? 0 : range[0];
    this.max = range === undefined ? 0 : range[1];
    this.words = this.kind === INT64 || this.kind === UINT64 ? new Uint32Array(out.buffer, out.byteOffset, out.length * 2) : null;
  }

  step(deadline: number): boolean {
    const b = this.b;
    const end = this.end;
    const number = this.number;
    const kind = this.kind;
    const out = this.out as Float64Array; // numbers are stored through one view type; the container converts
    let p = this.p;
    let i = this.i;
    let fuel = FUEL;
    while (p < end) {
      const c = b[p];
      if (c === 0x2c || c === 0x20 || c === 0x5b || c === 0x5d || c === 0x0a || c === 0x0d || c === 0x09) {
        p++;
        continue;
      }
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        // Plain decimals of at most 15 digits (most tensor data) are read here; the reader takes the rest.
        let q = c === 0x2d ? p + 1 : p;
        let m = 0;
        let d = b[q];
        while (d >= 0x30 && d <= 0x39) {
          m = m * 10 + (d - 0x30);
          d = b[++q];
        }
        let intDigits = q - (c === 0x2d ? p + 1 : p);
        let integer = true;
        let digits = intDigits;
        let x: number;
        if (d === 0x2e) {
          integer = false;
          const dot = q;
          d = b[++q];
          while (d >= 0x30 && d <= 0x39) {
            m = m * 10 + (d - 0x30);
            d = b[++q];
          }
          digits += q - dot - 1;
          x = m / POW10[q - dot - 1];
        } else x = m;
        if (digits <= 15 && d !== 0x65 && d !== 0x45) {
          if (c === 0x2d) x = -x;
          number.end = q;
        } else {
          number.read(b, p);
          x = number.value;
          integer = number.integer;
          intDigits = number.intDigits;
        }
        switch (kind) {
          case FP32: {
            const r = Math.fround(x);
            if (r - r !== 0) this.slow(p, i);
            else out[i] = r;
            break;
          }
          case FP64:
            out[i] = x;
            break;
          case SMALL_INT:
            if ((integer ? intDigits <= 15 : Number.isInteger(x)) && x >= this.min && x <= this.max) out[i] = x;
            else this.slow(p, i);
            break;
          case BOOL:
            if (x === 1) out[i] = 1;
            else if (x === 0) out[i] = 0;
            else this.slow(p, i);
            break;
          case FP16: {
            const r = roundToHalf(x);
            if (r - r !== 0) this.slow(p, i);
            else out[i] = r;
            break;
          }
          case BF16: {
            const r = roundToBf16(x);
            if (r - r !== 0) this.slow(p, i);
            else out[i] = r;
            break;
          }
          default:
            this.int64(p, i, x, integer, intDigits);
        }
        p = number.end;
      } else if (kind === BOOL && c === 0x74) {
        out[i] = 1;
        p += 4;
      } else if (kind === BOOL && c === 0x66) {
        out[i] = 0;
        p += 5;
      } else {
        // A string, null, true/false where a number belongs, or an object: the converter's to judge (it refuses).
        this.slow(p, i);
        p = this.skipValue(p);
      }
      i++;
      if (--fuel === 0) {
        fuel = FUEL;
        if (performance.now() > deadline) break;
      }
    }
    this.p = p;
    this.i = i;
    return p >= end;
  }

  /** The element at `p` through the shared converter: stored if it converts, else its error (with index `i`). */
  private slow(p: number, i: number): void {
    const value = convertElement(elementValue(this.b, p), i, this.dt, this.where, this.fail);
    (this.out as unknown as unknown[])[i] = value;
  }

  /** The offset after the element at `p` that is not a number. */
  private skipValue(p: number): number {
    const b = this.b;
    const c = b[p];
    if (c === 0x66) return p + 5;
    if (c === 0x74 || c === 0x6e) return p + 4;
    // A string, or an object (its strings skipped whole).
    let depth = 0;
    for (;;) {
      const d = b[p];
      if (d === 0x22) {
        p++;
        for (;;) {
          const e = b[p];
          if (e === 0x22) break;
          p += e === 0x5c ? 2 : 1;
        }
        if (depth === 0) return p + 1;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return p + 1;
      }
      p++;
    }
  }

  /**
   * INT64 / UINT64 element `i` from the number just read at `p`, written as two 32-bit words (no bigint): integers
   * of at most 15 digits and safe fractional forms (`1.0`, `1e3`) from the double, 16 to 20 digits from the digits.
   */
  private int64(p: number, i: number, x: number, integer: boolean, intDigits: number): void {
    const unsigned = this.kind === UINT64;
    if (integer && intDigits > 15) {
      if (!this.writeDigits(p, i, unsigned)) this.slow(p, i);
      return;
    }
    if ((integer || Number.isSafeInteger(x)) && !(unsigned && x < 0)) this.writeSafe(i, x);
    else this.slow(p, i);
  }

  private writeSafe(i: number, x: number): void {
    const words = this.words!;
    let lo: number;
    let hi: number;
    if (x >= 0) {
      lo = x % TWO_32;
      hi = (x - lo) / TWO_32;
    } else {
      const a = -x;
      const l = a % TWO_32;
      const h = (a - l) / TWO_32;
      if (l === 0) {
        lo = 0;
        hi = TWO_32 - h;
      } else {
        lo = TWO_32 - l;
        hi = TWO_32 - 1 - h;
      }
    }
    words[2 * i + LO] = lo;
    words[2 * i + HI] = hi;
  }

  /** Writes the integer literal at `p` (16 to 20 digits) exactly; false when it is out of range. */
  private writeDigits(p: number, i: number, unsigned: boolean): boolean {
    const b = this.b;
    const negative = b[p] === 0x2d;
    let q = negative ? p + 1 : p;
    let lo = 0;
    let hi = 0;
    for (let c = b[q]; c >= 0x30 && c <= 0x39; c = b[++q]) {
      lo = lo * 10 + (c - 0x30);
      const carry = Math.floor(lo / TWO_32);
      lo -= carry * TWO_32;
      hi = hi * 10 + carry;
    }
    if (unsigned ? negative || hi >= TWO_32 : negative ? hi > TWO_31 || (hi === TWO_31 && lo !== 0) : hi >= TWO_31) return false;
    if (negative) {
      if (lo === 0) hi = TWO_32 - hi;
      else {
        lo = TWO_32 - lo;
        hi = TWO_32 - 1 - hi;
      }
    }
    const words = this.words!;
    words[2 * i + LO] = lo;
    words[2 * i + HI] = hi;
    return true;
  }
}
