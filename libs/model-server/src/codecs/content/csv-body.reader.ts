import { Buffer } from 'node:buffer';
import type { ModelServerError } from '../../errors/model-server.error';
import type { ByteStrings } from '../../model/byte-strings';
import type { Datatype, TensorData } from '../../model/datatype';
import { BF16_MAX, FP16_MAX, roundToBf16, roundToHalf } from '../fp16.util';
import type { TensorBudget } from '../tensor-budget';
import { invalidRequest } from '../../errors';

/** The longest field read as a number, blanks and quotes included: no number needs more (numpy writes ~24). */
export const MAX_CSV_FIELD_BYTES = 1024;

/** The most digits of an integer literal: 2^64 has 20. */
const MAX_INTEGER_DIGITS = 20;

/** Decimal fields with at most this many significant digits convert exactly with one multiply or divide. */
const FAST_DIGITS = 15;

/** Powers of ten that are exact doubles (10^0 .. 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

const TWO_32 = 2 ** 32;
const FP32_MAX = 3.4028234663852886e38;

const NL = 0x0a;
const COMMA = 0x2c;
const QUOTE = 0x22;

/** Blanks as `String.prototype.trim` removes them in ASCII: space, tab, CR, vertical tab, form feed. */
function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c;
}

/** How values are stored: each datatype's own container, with the checks decoding makes for it. */
const enum Store {
  Float64,
  Float32,
  Half,
  Bf16,
  SmallInt,
  Bool,
  Int64,
  Uint64,
}

/** Where a scan is: deciding whether a line is blank, skipping the header line, or reading fields. */
const enum At {
  LineStart,
  Header,
  Fields,
}

/** The values of a CSV body, in the container of the input's datatype. @internal */
export type CsvValues = Exclude<TensorData, ByteStrings>;

/** The numeric datatypes a CSV body can fill, with their container and range (small integers). */
const STORES: Readonly<Record<Exclude<Datatype, 'BYTES'>, { store: Store; make: (n: number) => CsvValues; min?: number; max?: number }>> = {
  FP64: { store: Store.Float64, make: (n) => new Float64Array(n) },
  FP32: { store: Store.Float32, make: (n) => new Float32Array(n) },
  FP16: { store: Store.Half, make: (n) => new Float32Array(n) },
  BF16: { store: Store.Bf16, make: (n) => new Float32Array(n) },
  INT8: { store: Store.SmallInt, make: (n) => new Int8Array(n), min: -128, max: 127 },
  INT16: { store: Store.SmallInt, make: (n) => new Int16Array(n), min: -32768, max: 32767 },
  INT32: { store: Store.SmallInt, make: (n) => new Int32Array(n), min: -2147483648, max: 2147483647 },
  UINT8: { store: Store.SmallInt, make: (n) => new Uint8Array(n), min: 0, max: 255 },
  UINT16: { store: Store.SmallInt, make: (n) => new Uint16Array(n), min: 0, max: 65535 },
  UINT32: { store: Store.SmallInt, make: (n) => new Uint32Array(n), min: 0, max: 4294967295 },
  BOOL: { store: Store.Bool, make: (n) => new Uint8Array(n) },
  INT64: { store: Store.Int64, make: (n) => new BigInt64Array(n) },
  UINT64: { store: Store.Uint64, make: (n) => new BigUint64Array(n) },
};

/**
 * Reads a CSV body of numbers in two linear passes over its bytes, neither of which makes a string or an object
 * per field: {@link count} finds the rows and columns (ragged rows and over-long fields are refused here, before
 * anything is allocated), then {@link fill} parses every field straight into the container of the input's
 * datatype (a Float32Array for FP32, a BigInt64Array of exact integers for INT64, ...) with the checks decoding
 * makes for it (range, integers, 0/1 for BOOL, FP16/BF16 rounding). Both passes stop after a given number of bytes
 * and resume where they stopped, so a caller can yield to the event loop between slices; fields are at most
 * {@link MAX_CSV_FIELD_BYTES} long, so no slice runs long on one field.
 *
 * Lines are split at `\n` (a trailing `\r` is a blank); blank lines are skipped; the first non-blank line is skipped
 * when the body has a header. Fields are split at every comma, trimmed, and may be quoted (`"5.2"`).
 *
 * @internal
 */
export class CsvBodyReader {
  /** Rows found by {@link count}. */
  rows = 0;
  /** Fields per row (-1 until the first row). */
  columns = -1;

  /** Bytes per element of the output. */
  readonly elementBytes: number;
  private readonly store: Store;
  private readonly min: number;
  private readonly max: number;
  private readonly make: (n: number) => CsvValues;
  private pos: number;
  private line = 1;
  private headerPending: boolean;
  // count(): the line being read
  private lineHasText = false;
  private fieldsInLine = 1;
  private fieldStart: number;
  private longField = -1;
  private longFieldColumn = 0;
  private firstLine = 0;
  // fill(): the output and where it is
  private at: At = At.LineStart;
  private out: CsvValues | null = null;
  private words: Uint32Array | null = null;
  private k = 0;
  private column = 0;
  // the number last parsed (kept here: no object per field)
  private isInteger = false;
  private negative = false;
  private lo = 0;
  private hi = 0;

  constructor(
    private readonly body: Buffer,
    private readonly hasHeader: boolean,
    private readonly datatype: Exclude<Datatype, 'BYTES'>,
  ) {
    const kind = STORES[datatype];
    this.store = kind.store;
    this.make = kind.make;
    this.min = kind.min ?? 0;
    this.max = kind.max ?? 0;
    this.elementBytes = kind.make(0).BYTES_PER_ELEMENT;
    this.pos = this.fieldStart = CsvBodyReader.start(body);
    this.headerPending = hasHeader;
  }

  /** Where the text begins: after a UTF-8 byte order mark, if any. */
  private static start(body: Buffer): number {
    return body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  }

  /** First pass over up to `bytes` more bytes: rows, columns, ragged rows, over-long fields. True when done. */
  count(bytes: number): boolean {
    const b = this.body;
    const end = b.length;
    const stop = Math.min(end, this.pos + bytes);
    let p = this.pos;
    let fieldStart = this.fieldStart;
    let fields = this.fieldsInLine;
    let hasText = this.lineHasText;
    while (p < stop) {
      const c = b[p];
      if (c === COMMA) {
        if (p - fieldStart > MAX_CSV_FIELD_BYTES) this.noteLongField(fieldStart, fields);
        fields++;
        fieldStart = p + 1;
      } else if (c === NL) {
        this.lineHasText = hasText;
        this.fieldsInLine = fields;
        this.endLine(p, fieldStart);
        fields = 1;
        hasText = false;
        fieldStart = p + 1;
      } else if (!hasText && !isBlank(c)) {
        hasText = true;
      }
      p++;
    }
    this.pos = p;
    this.fieldStart = fieldStart;
    this.fieldsInLine = fields;
    this.lineHasText = hasText;
    if (p < end) return false;
    if (fieldStart < end || fields > 1) this.endLine(end, fieldStart);
    if (this.rows === 0) throw invalidRequest('the CSV body has no rows; send one line of comma-separated numbers per row');
    return true;
  }

  private noteLongField(start: number, column: number): void {
    if (this.longField !== -1) return;
    this.longField = start;
    this.longFieldColumn = column;
  }

  private endLine(p: number, fieldStart: number): void {
    if (p - fieldStart > MAX_CSV_FIELD_BYTES) this.noteLongField(fieldStart, this.fieldsInLine);
    if (this.lineHasText) {
      if (this.headerPending) this.headerPending = false;
      else {
        if (this.longField !== -1) {
          throw invalidRequest(
            `CSV line ${this.line}, field ${this.longFieldColumn}: ${this.quote(this.longField, p)}... is over ${MAX_CSV_FIELD_BYTES} bytes, too long for a number`,
          );
        }
        if (this.columns === -1) {
          this.columns = this.fieldsInLine;
          this.firstLine = this.line;
        } else if (this.fieldsInLine !== this.columns) {
          throw invalidRequest(
            `CSV line ${this.line} has ${this.fieldsInLine} fields, but line ${this.firstLine} has ${this.columns}; every row needs the same number`,
          );
        }
        this.rows++;
      }
    }
    this.line++;
    this.lineHasText = false;
    this.fieldsInLine = 1;
    this.longField = -1;
  }

  /** Takes the output's size from `budget` (as `where`) and allocates it; call after {@link count}. */
  allocate(budget: TensorBudget, where: string): void {
    const n = this.rows * this.columns;
    budget.take(n * this.elementBytes, where);
    const out = this.make(n);
    this.out = out;
    if (this.store === Store.Int64 || this.store === Store.Uint64) this.words = new Uint32Array(out.buffer, out.byteOffset, n * 2);
    this.pos = this.fieldStart = CsvBodyReader.start(this.body);
    this.line = 1;
    this.at = At.LineStart;
    this.headerPending = this.hasHeader;
  }

  /** The values, once {@link fill} is done. */
  get data(): CsvValues {
    return this.out!;
  }

  /** Second pass over up to `bytes` more bytes: every field parsed into the output. True when done. */
  fill(bytes: number): boolean {
    const b = this.body;
    const end = b.length;
    const stop = Math.min(end, this.pos + bytes);
    const total = this.rows * this.columns;
    let p = this.pos;
    while (this.k < total && p < stop) {
      if (this.at !== At.Fields) {
        p = this.lineStart(p, stop);
        continue;
      }
      // A field: pass one made sure it is at most MAX_CSV_FIELD_BYTES long.
      let q = p;
      while (q < end) {
        const c = b[q];
        if (c === COMMA || c === NL) break;
        q++;
      }
      this.column++;
      this.field(p, q);
      p = q + 1;
      if (q >= end || b[q] === NL) {
        this.line++;
        this.fieldStart = p;
        this.at = At.LineStart;
      }
    }
    this.pos = p;
    return this.k >= total;
  }

  /** At the start of a line: skips it when blank (or the header), else starts reading its fields. */
  private lineStart(p: number, stop: number): number {
    const b = this.body;
    const end = b.length;
    if (this.at === At.Header) {
      const nl = b.indexOf(NL, p);
      p = nl === -1 ? end : nl + 1;
      this.line++;
      this.fieldStart = p;
      this.at = At.LineStart;
      return p;
    }
    while (p < stop && b[p] !== NL && isBlank(b[p])) p++;
    if (p >= stop && p < end) return p; // blank so far: go on from here next time
    if (p >= end || b[p] === NL) {
      this.line++;
      this.fieldStart = p + 1;
      return p + 1;
    }
    this.at = this.headerPending ? At.Header : At.Fields;
    this.headerPending = false;
    this.column = 0;
    return this.fieldStart;
  }

  /** Parses the field `[start, end)` into the next output element, or throws a 400 naming it. */
  private field(start: number, end: number): void {
    const b = this.body;
    while (start < end && isBlank(b[start])) start++;
    while (end > start && isBlank(b[end - 1])) end--;
    if (end - start >= 2 && b[start] === QUOTE && b[end - 1] === QUOTE) {
      start++;
      end--;
      while (start < end && isBlank(b[start])) start++;
      while (end > start && isBlank(b[end - 1])) end--;
    }
    const v = this.number(start, end);
    const k = this.k++;
    switch (this.store) {
      case Store.Float64:
        (this.out as Float64Array)[k] = v;
        return;
      case Store.Float32: {
        const f = Math.fround(v);
        if (f - f !== 0) throw this.fail(start, end, `is out of range for FP32 (largest finite magnitude ${FP32_MAX})`);
        (this.out as Float32Array)[k] = f;
        return;
      }
      case Store.Half: {
        const h = roundToHalf(v);
        if (h - h !== 0) throw this.fail(start, end, `is out of range for FP16 (largest finite magnitude ${FP16_MAX})`);
        (this.out as Float32Array)[k] = h;
        return;
      }
      case Store.Bf16: {
        const h = roundToBf16(v);
        if (h - h !== 0) throw this.fail(start, end, `is out of range for BF16 (largest finite magnitude ${BF16_MAX})`);
        (this.out as Float32Array)[k] = h;
        return;
      }
      case Store.SmallInt:
        if (!Number.isInteger(v)) throw this.fail(start, end, `is not an integer; ${this.datatype} takes integers in ${this.min}..${this.max}`);
        if (v < this.min || v > this.max) throw this.fail(start, end, `is out of range for ${this.datatype} (${this.min}..${this.max})`);
        (this.out as Int32Array)[k] = v;
        return;
      case Store.Bool:
        if (v !== 0 && v !== 1) throw this.fail(start, end, 'is not a boolean; BOOL takes 0 or 1');
        (this.out as Uint8Array)[k] = v;
        return;
      default:
        this.store64(k, v, start, end);
    }
  }

  /** Writes element `k` of an INT64 / UINT64 output: the exact integer just parsed, or an integral double. */
  private store64(k: number, v: number, start: number, end: number): void {
    const unsigned = this.store === Store.Uint64;
    const range = unsigned ? `(0..${2n ** 64n - 1n})` : `(${-(2n ** 63n)}..${2n ** 63n - 1n})`;
    if (!this.isInteger) {
      if (!Number.isInteger(v)) throw this.fail(start, end, `is not an integer; ${this.datatype} takes integers`);
      if (!Number.isSafeInteger(v)) throw this.fail(start, end, `is beyond 2^53 as a floating-point number; write ${this.datatype} values as plain digits`);
      if (unsigned && v < 0) throw this.fail(start, end, `is out of range for UINT64 ${range}`);
      (this.out as BigInt64Array)[k] = BigInt(v);
      return;
    }
    let lo = this.lo;
    let hi = this.hi;
    const zero = lo === 0 && hi === 0;
    if (unsigned) {
      if (hi >= TWO_32 || (this.negative && !zero)) throw this.fail(start, end, `is out of range for UINT64 ${range}`);
    } else {
      const fits = this.negative ? hi < 0x80000000 || (hi === 0x80000000 && lo === 0) : hi < 0x80000000;
      if (!fits) throw this.fail(start, end, `is out of range for INT64 ${range}`);
      if (this.negative && !zero) {
        // two's complement of the magnitude
        if (lo === 0) hi = (TWO_32 - hi) % TWO_32;
        else {
          lo = TWO_32 - lo;
          hi = TWO_32 - 1 - hi;
        }
      }
    }
    const w = this.words!;
    w[2 * k] = lo;
    w[2 * k + 1] = hi;
  }

  /**
   * Parses `[+-]digits[.digits][e[+-]digits]` (or `.digits`) in `[start, end)` and returns its value, exactly as
   * `Number()` reads it. An integer literal (no point, no exponent) also sets `isInteger`, its sign and, for 64-bit
   * outputs, its magnitude in two 32-bit words. Other text, more than 20 digits of an integer and non-finite
   * values are 400s.
   */
  private number(start: number, end: number): number {
    const b = this.body;
    const exact = this.store === Store.Int64 || this.store === Store.Uint64;
    let p = start;
    let negative = false;
    if (p < end && (b[p] === 0x2b || b[p] === 0x2d)) negative = b[p++] === 0x2d;
    let digits = 0;
    let significant = 0;
    let mantissa = 0;
    let lo = 0; // the integer part exactly, in two 32-bit words (64-bit outputs, up to 20 digits)
    let hi = 0;
    while (p < end) {
      const d = b[p] - 0x30;
      if (d < 0 || d > 9) break;
      digits++;
      if (significant > 0 || d !== 0) {
        significant++;
        if (significant <= FAST_DIGITS) mantissa = mantissa * 10 + d;
      }
      if (exact && digits <= MAX_INTEGER_DIGITS) {
        lo = lo * 10 + d;
        const carry = Math.floor(lo / TWO_32);
        lo -= carry * TWO_32;
        hi = hi * 10 + carry;
      }
      p++;
    }
    let exponent = 0;
    let isInteger = true;
    let fractionDigits = 0;
    if (p < end && b[p] === 0x2e /* . */) {
      isInteger = false;
      p++;
      while (p < end) {
        const d = b[p] - 0x30;
        if (d < 0 || d > 9) break;
        fractionDigits++;
        if (significant > 0 || d !== 0) {
          significant++;
          if (significant <= FAST_DIGITS) {
            mantissa = mantissa * 10 + d;
            exponent--;
          }
        } else exponent--;
        p++;
      }
    }
    if (digits + fractionDigits === 0) throw this.fail(start, end, 'is not a number');
    if (p < end && (b[p] === 0x65 || b[p] === 0x45) /* e E */) {
      isInteger = false;
      p++;
      let expNegative = false;
      if (p < end && (b[p] === 0x2b || b[p] === 0x2d)) expNegative = b[p++] === 0x2d;
      const expStart = p;
      let e = 0;
      while (p < end) {
        const d = b[p] - 0x30;
        if (d < 0 || d > 9) break;
        if (e < 100000) e = e * 10 + d;
        p++;
      }
      if (p === expStart) throw this.fail(start, end, 'is not a number');
      exponent += expNegative ? -e : e;
    }
    if (p !== end) throw this.fail(start, end, 'is not a number');
    this.isInteger = isInteger;
    if (isInteger) {
      if (digits > MAX_INTEGER_DIGITS) {
        throw this.fail(start, end, `is an integer of ${digits} digits; at most ${MAX_INTEGER_DIGITS} (64 bits) are read`);
      }
      this.negative = negative;
      this.lo = lo;
      this.hi = hi; // 2^32 or more: beyond 64 bits
      // Up to 15 digits are exact in the mantissa; longer integers are read from their text.
      if (significant <= FAST_DIGITS) return negative ? -mantissa : mantissa;
      return this.parseText(start, end);
    }
    // Beyond 15 significant digits (or 10^22) one multiply or divide is not exact: read the text.
    let v: number;
    if (mantissa === 0) v = 0;
    else if (significant <= FAST_DIGITS && exponent >= -22 && exponent <= 22) v = exponent >= 0 ? mantissa * POW10[exponent] : mantissa / POW10[-exponent];
    else v = Math.abs(this.parseText(start, end));
    if (v - v !== 0) throw this.fail(start, end, 'is not a finite number');
    return negative ? -v : v;
  }

  /** The field's text as a double (only for fields the fast path cannot convert exactly; checked syntax). */
  private parseText(start: number, end: number): number {
    return Number(this.body.toString('latin1', start, end));
  }

  private fail(start: number, end: number, what: string): ModelServerError {
    return invalidRequest(`CSV line ${this.line}, field ${this.column}: ${this.quote(start, end)} ${what}`);
  }

  /** A field as messages quote it: `empty`, or its first 40 characters as a JSON string. */
  private quote(start: number, end: number): string {
    if (start >= end) return 'empty';
    const text = this.body.toString('utf8', start, Math.min(end, start + 160));
    return JSON.stringify(text.length > 40 ? text.slice(0, 40) : text);
  }
}
