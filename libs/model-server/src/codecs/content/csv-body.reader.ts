import { invalidRequest } from '../../errors/errors';
import type { ModelServerError } from '../../errors/model-server.error';
import type { TensorBudget } from '../tensor-budget';

/** The longest field read as a number, blanks and quotes included: no number needs more (numpy writes ~24). */
export const MAX_CSV_FIELD_BYTES = 1024;

/** The most digits of an integer literal: 2^64 has 20. */
const MAX_INTEGER_DIGITS = 20;

/** Decimal fields with at most this many significant digits convert exactly with one multiply or divide. */
const FAST_DIGITS = 15;

/** Powers of ten that are exact doubles (10^0 .. 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

const TWO_32 = 2 ** 32;

/** The largest finite float32. */
const FP32_MAX = 3.4028234663852886e38;

/**
 * What the values become: doubles (a Float64Array), floats (a Float32Array, for FP32 inputs: no second copy), or
 * exact 64-bit integers.
 *
 * @internal
 */
export type CsvValueKind = 'float64' | 'float32' | 'int64' | 'uint64';

const NL = 0x0a;
const COMMA = 0x2c;
const QUOTE = 0x22;

/** Blanks as `String.prototype.trim` removes them in ASCII: space, tab, CR, vertical tab, form feed. */
function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c;
}

/** Where a scan is: deciding whether a line is blank, skipping the header line, or reading fields. */
const enum At {
  LineStart,
  Header,
  Fields,
}

/**
 * Reads a CSV body of numbers in two linear passes over its bytes, neither of which makes a string or an object
 * per field: {@link count} finds the rows and columns (ragged rows and over-long fields are refused here, before
 * anything is allocated), then {@link fill} parses every field straight into one typed array: a Float64Array, a
 * Float32Array, or a BigInt64Array / BigUint64Array of exact 64-bit integers. Both passes stop after a given
 * number of bytes and resume where they stopped, so a caller can yield to the event loop between slices. Fields
 * are at most {@link MAX_CSV_FIELD_BYTES} long, so no slice runs long on one field.
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

  private pos: number;
  private line = 1;
  private at: At = At.LineStart;
  private headerPending: boolean;
  // count(): the line being read
  private lineHasText = false;
  private fieldsInLine = 1;
  private fieldStart: number;
  private longField = -1;
  private longFieldColumn = 0;
  private firstLine = 0;
  // fill(): the output and where it is
  private out: Float64Array | Float32Array | BigInt64Array | BigUint64Array | null = null;
  private words: Uint32Array | null = null;
  private k = 0;
  private column = 0;
  // the number last parsed (no object per field)
  private negative = false;
  private value = 0;
  private lo = 0;
  private hi = 0;

  constructor(
    private readonly body: Buffer,
    private readonly hasHeader: boolean,
    private readonly kind: CsvValueKind,
  ) {
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
    while (p < stop) {
      const c = b[p];
      if (c === NL) {
        this.endLine(p);
        p++;
        continue;
      }
      if (c === COMMA) {
        this.checkFieldLength(p);
        this.fieldsInLine++;
        this.fieldStart = p + 1;
      } else if (!this.lineHasText && !isBlank(c)) {
        this.lineHasText = true;
      }
      p++;
    }
    this.pos = p;
    if (p < end) return false;
    if (this.fieldStart < end || this.fieldsInLine > 1) this.endLine(end);
    if (this.rows === 0) throw invalidRequest('the CSV body has no rows; send one line of comma-separated numbers per row');
    return true;
  }

  private checkFieldLength(p: number): void {
    if (this.longField === -1 && p - this.fieldStart > MAX_CSV_FIELD_BYTES) {
      this.longField = this.fieldStart;
      this.longFieldColumn = this.fieldsInLine;
    }
  }

  private endLine(p: number): void {
    this.checkFieldLength(p);
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
    this.fieldStart = p + 1;
    this.longField = -1;
  }

  /** Takes the output's size from `budget` (as `where`) and allocates it; call after {@link count}. */
  allocate(budget: TensorBudget, where: string): void {
    const n = this.rows * this.columns;
    budget.take(n * (this.kind === 'float32' ? 4 : 8), where);
    if (this.kind === 'float64') this.out = new Float64Array(n);
    else if (this.kind === 'float32') this.out = new Float32Array(n);
    else {
      this.out = this.kind === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
      this.words = new Uint32Array(this.out.buffer, this.out.byteOffset, n * 2);
    }
    this.pos = this.fieldStart = CsvBodyReader.start(this.body);
    this.line = 1;
    this.at = At.LineStart;
    this.headerPending = this.hasHeader;
  }

  /** The values, once {@link fill} is done. */
  get data(): Float64Array | Float32Array | BigInt64Array | BigUint64Array {
    return this.out!;
  }

  /** Second pass over up to `bytes` more bytes: every field parsed into the output. True when done. */
  fill(bytes: number): boolean {
    const b = this.body;
    const end = b.length;
    const stop = Math.min(end, this.pos + bytes);
    const total = this.rows * this.columns;
    let p = this.pos;
    while (this.k < total) {
      if (p >= stop) break;
      if (this.at === At.LineStart) {
        while (p < stop && b[p] !== NL && isBlank(b[p])) p++;
        if (p >= stop && p < end) break; // still blank so far: go on from here next time
        if (p >= end || b[p] === NL) {
          p++;
          this.line++;
          this.fieldStart = p;
          continue;
        }
        this.at = this.headerPending ? At.Header : At.Fields;
        this.headerPending = false;
        this.column = 0;
        p = this.fieldStart;
      }
      if (this.at === At.Header) {
        const nl = b.indexOf(NL, p);
        p = nl === -1 ? end : nl + 1;
        this.line++;
        this.fieldStart = p;
        this.at = At.LineStart;
        continue;
      }
      // A field: pass one made sure it is at most MAX_CSV_FIELD_BYTES long.
      let q = p;
      while (q < end && b[q] !== COMMA && b[q] !== NL) q++;
      this.column++;
      this.field(p, q);
      if (q < end && b[q] === COMMA) p = q + 1;
      else {
        p = q + 1;
        this.line++;
        this.fieldStart = p;
        this.at = At.LineStart;
      }
    }
    this.pos = p;
    return this.k >= total;
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
    const integer = this.number(start, end);
    const k = this.k++;
    if (this.kind === 'float64') {
      this.out![k] = this.value;
      return;
    }
    if (this.kind === 'float32') {
      const f = Math.fround(this.value);
      if (f - f !== 0) throw this.fail(start, end, `is out of range for FP32 (largest finite magnitude ${FP32_MAX})`);
      this.out![k] = f;
      return;
    }
    if (integer) this.writeInteger(k, start, end);
    else {
      const v = this.value;
      if (!Number.isInteger(v)) throw this.fail(start, end, `is not an integer; ${this.datatype()} takes integers`);
      if (!Number.isSafeInteger(v)) throw this.fail(start, end, `is beyond 2^53 as a floating-point number; write ${this.datatype()} values as plain digits`);
      if (this.kind === 'uint64' && v < 0) throw this.fail(start, end, `is out of range for UINT64 (0..${2n ** 64n - 1n})`);
      (this.out as BigInt64Array)[k] = BigInt(v);
    }
  }

  private datatype(): string {
    return this.kind === 'int64' ? 'INT64' : 'UINT64';
  }

  /**
   * Parses `[+-]digits[.digits][e[+-]digits]` (or `.digits`) in `[start, end)`. An integer literal (no point, no
   * exponent) sets the sign and its 64-bit magnitude in two 32-bit words and returns true; anything else sets
   * `value` (a finite double) and returns false. Other text, more than 20 digits of an integer and non-finite
   * values are 400s.
   */
  private number(start: number, end: number): boolean {
    const b = this.body;
    let p = start;
    let negative = false;
    if (p < end && (b[p] === 0x2b || b[p] === 0x2d)) negative = b[p++] === 0x2d;
    // integer part
    let digits = 0;
    let significant = 0;
    let mantissa = 0;
    let lo = 0; // the integer part, exactly, in two 32-bit words (while it has at most 20 digits)
    let hi = 0;
    while (p < end) {
      const d = b[p] - 0x30;
      if (d < 0 || d > 9) break;
      digits++;
      if (significant > 0 || d !== 0) {
        significant++;
        if (significant <= FAST_DIGITS) mantissa = mantissa * 10 + d;
      }
      if (digits <= MAX_INTEGER_DIGITS) {
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
    if (digits + fractionDigits === 0) throw this.notANumber(start, end);
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
      if (p === expStart) throw this.notANumber(start, end);
      exponent += expNegative ? -e : e;
    }
    if (p !== end) throw this.notANumber(start, end);
    if (isInteger) {
      if (digits > MAX_INTEGER_DIGITS) {
        throw this.fail(start, end, `is an integer of ${digits} digits; at most ${MAX_INTEGER_DIGITS} (64 bits) are read`);
      }
      this.negative = negative;
      this.lo = lo;
      this.hi = hi; // 2^32 or more: beyond 64 bits
      if (this.kind === 'float64' || this.kind === 'float32') {
        // Integers of up to 15 digits are exact in the mantissa; longer ones are read from their text.
        this.value = significant <= FAST_DIGITS ? (negative ? -mantissa : mantissa) : this.parseText(start, end);
      }
      return true;
    }
    // Beyond FAST_DIGITS significant digits (or a large exponent) one multiply is not exact: read the text.
    let v: number;
    if (mantissa === 0) v = 0;
    else if (significant <= FAST_DIGITS && exponent >= -22 && exponent <= 22) v = exponent >= 0 ? mantissa * POW10[exponent] : mantissa / POW10[-exponent];
    else v = Math.abs(this.parseText(start, end));
    if (v - v !== 0) throw this.fail(start, end, 'is not a finite number');
    this.value = negative ? -v : v;
    return false;
  }

  /** The field's text as a double (only for fields the fast path cannot convert exactly; checked syntax). */
  private parseText(start: number, end: number): number {
    return Number(this.body.toString('latin1', start, end));
  }

  /** Writes the integer last parsed as element `k` of a 64-bit output, checking its range. */
  private writeInteger(k: number, start: number, end: number): void {
    let lo = this.lo;
    let hi = this.hi;
    const zero = lo === 0 && hi === 0;
    if (this.kind === 'uint64') {
      if (hi >= TWO_32 || (this.negative && !zero)) throw this.fail(start, end, `is out of range for UINT64 (0..${2n ** 64n - 1n})`);
    } else {
      const limit = this.negative ? hi < 0x80000000 || (hi === 0x80000000 && lo === 0) : hi < 0x80000000;
      if (!limit) throw this.fail(start, end, `is out of range for INT64 (${-(2n ** 63n)}..${2n ** 63n - 1n})`);
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

  private notANumber(start: number, end: number): ModelServerError {
    return this.fail(start, end, 'is not a number');
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
