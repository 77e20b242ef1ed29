import { integerTooLong, malformedJson, numberOutOfRange } from '../errors/codec.errors';
import { MAX_INTEGER_DIGITS } from './json-limits';

/** Deepest nesting of arrays / objects accepted in a JSON body. @internal */
export const MAX_JSON_DEPTH = 512;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** An open array or object while parsing. */
type Container = unknown[] | Record<string, unknown>;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** Sets `obj[key]` as an own data property; `__proto__` never reaches the prototype setter. @internal */
export function setMember(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/**
 * A JSON parser that keeps integers exact: integers outside the safe range become `bigint`, everything
 * else is what `JSON.parse` gives. It runs iteratively (an explicit stack) and refuses nesting deeper
 * than {@link MAX_JSON_DEPTH}. Errors are 400s: `malformed JSON: <what> at position N`; numbers beyond the
 * largest double (`1e999`) and integer literals of more than 20 digits are refused too (the latter before
 * any conversion, so a literal of millions of digits costs one pass over its digits).
 */
class LosslessJsonParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): unknown {
    const text = this.text;
    const stack: Container[] = [];
    const keys: string[] = [];
    let value: unknown;
    for (;;) {
      this.skipSpace();
      const c = text.charCodeAt(this.pos);
      if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
        if (stack.length >= MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
        this.pos++;
        this.skipSpace();
        if (c === 0x5b) {
          if (text.charCodeAt(this.pos) === 0x5d) {
            this.pos++;
            value = [];
          } else {
            stack.push([]);
            keys.push('');
            continue;
          }
        } else if (text.charCodeAt(this.pos) === 0x7d) {
          this.pos++;
          value = {};
        } else {
          stack.push({});
          keys.push(this.readKey());
          continue;
        }
      } else {
        value = this.readScalar(c);
      }
      // Attach the value to its container; close containers that end here.
      for (;;) {
        const top = stack.length - 1;
        this.skipSpace();
        if (top < 0) {
          if (this.pos < text.length) this.fail(`unexpected ${this.found()} after the JSON value`);
          return value;
        }
        const container = stack[top];
        const d = text.charCodeAt(this.pos);
        if (Array.isArray(container)) {
          container.push(value);
          if (d === 0x2c) {
            this.pos++;
            break;
          }
          if (d !== 0x5d) this.fail(`expected ',' or ']' after an array element, found ${this.found()}`);
        } else {
          setMember(container, keys[top], value);
          if (d === 0x2c) {
            this.pos++;
            this.skipSpace();
            keys[top] = this.readKey();
            break;
          }
          if (d !== 0x7d) this.fail(`expected ',' or '}' after an object member, found ${this.found()}`);
        }
        this.pos++;
        value = container;
        stack.pop();
        keys.pop();
      }
    }
  }

  private fail(what: string, at: number = this.pos): never {
    throw malformedJson(what, at);
  }

  private found(): string {
    if (this.pos >= this.text.length) return 'end of input';
    return `character ${JSON.stringify(this.text[this.pos])}`;
  }

  private skipSpace(): void {
    const text = this.text;
    let p = this.pos;
    while (p < text.length && isSpace(text.charCodeAt(p))) p++;
    this.pos = p;
  }

  /** Reads `"key"` and the `:` after it. */
  private readKey(): string {
    if (this.text.charCodeAt(this.pos) !== 0x22) this.fail(`expected a string key, found ${this.found()}`);
    const key = this.readString();
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail(`expected ':' after a key, found ${this.found()}`);
    this.pos++;
    return key;
  }

  private readScalar(c: number): unknown {
    if (c === 0x22) return this.readString();
    if (c === 0x2d || isDigit(c)) return this.readNumber();
    if (c === 0x74 && this.text.startsWith('true', this.pos)) return this.literal(4, true);
    if (c === 0x66 && this.text.startsWith('false', this.pos)) return this.literal(5, false);
    if (c === 0x6e && this.text.startsWith('null', this.pos)) return this.literal(4, null);
    return this.fail(this.pos >= this.text.length ? 'unexpected end of input' : `unexpected ${this.found()}`);
  }

  private literal(length: number, value: boolean | null): boolean | null {
    this.pos += length;
    return value;
  }

  private readString(): string {
    const text = this.text;
    const start = this.pos + 1;
    let p = start;
    for (;;) {
      if (p >= text.length) this.fail('unterminated string', start - 1);
      const c = text.charCodeAt(p);
      if (c === 0x22) {
        this.pos = p + 1;
        return text.slice(start, p);
      }
      if (c === 0x5c) break;
      if (c < 0x20) this.fail('unescaped control character in a string', p);
      p++;
    }
    return this.readEscapedString(start, p);
  }

  /** The slow path of {@link readString}, from the first backslash at `p`. */
  private readEscapedString(start: number, p: number): string {
    const text = this.text;
    let out = text.slice(start, p);
    let chunk = p;
    for (;;) {
      if (p >= text.length) this.fail('unterminated string', start - 1);
      const c = text.charCodeAt(p);
      if (c === 0x22) {
        this.pos = p + 1;
        return out + text.slice(chunk, p);
      }
      if (c < 0x20) this.fail('unescaped control character in a string', p);
      if (c !== 0x5c) {
        p++;
        continue;
      }
      out += text.slice(chunk, p);
      const e = text.charCodeAt(p + 1);
      out += this.decodeEscape(e, p);
      p += e === 0x75 ? 6 : 2;
      chunk = p;
    }
  }

  /** The character the escape at `p` (`\\` then `e`) stands for. */
  private decodeEscape(e: number, p: number): string {
    switch (e) {
      case 0x22:
        return '"';
      case 0x5c:
        return '\\';
      case 0x2f:
        return '/';
      case 0x62:
        return '\b';
      case 0x66:
        return '\f';
      case 0x6e:
        return '\n';
      case 0x72:
        return '\r';
      case 0x74:
        return '\t';
      case 0x75: {
        const hex = this.text.slice(p + 2, p + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape in a string', p);
        return String.fromCharCode(parseInt(hex, 16));
      }
      default:
        return this.fail('invalid escape in a string', p);
    }
  }

  private readNumber(): number | bigint {
    const text = this.text;
    const start = this.pos;
    let p = start;
    const negative = text.charCodeAt(p) === 0x2d;
    if (negative) p++;
    const intStart = p;
    let c = text.charCodeAt(p);
    let magnitude = 0; // the integer part, exact while it has at most 15 digits
    if (c === 0x30) p++;
    else if (isDigit(c)) {
      do {
        magnitude = magnitude * 10 + (c - 48);
        c = text.charCodeAt(++p);
      } while (isDigit(c));
    } else this.fail('invalid number', p);
    const intDigits = p - intStart;
    let integer = true;
    if (text.charCodeAt(p) === 0x2e) {
      p++;
      if (!isDigit(text.charCodeAt(p))) this.fail('invalid number: digits must follow the decimal point', p);
      while (isDigit(text.charCodeAt(p))) p++;
      integer = false;
    }
    const e = text.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      p++;
      const sign = text.charCodeAt(p);
      if (sign === 0x2b || sign === 0x2d) p++;
      if (!isDigit(text.charCodeAt(p))) this.fail('invalid number: digits must follow the exponent', p);
      while (isDigit(text.charCodeAt(p))) p++;
      integer = false;
    }
    this.pos = p;
    if (integer && intDigits <= 15) return negative ? -magnitude : magnitude;
    const literal = text.slice(start, p);
    if (!integer) {
      const x = Number(literal);
      if (x - x !== 0) throw numberOutOfRange(literal, start);
      return x;
    }
    if (intDigits > MAX_INTEGER_DIGITS) throw integerTooLong(literal, intDigits, start, MAX_INTEGER_DIGITS);
    const big = BigInt(literal);
    return big >= MIN_SAFE && big <= MAX_SAFE ? Number(big) : big;
  }
}

/**
 * Parses JSON text keeping integers beyond ±(2^53-1) exact as `bigint` (other values exactly as
 * `JSON.parse` gives them), without recursion and with nesting limited to {@link MAX_JSON_DEPTH}.
 * `__proto__` keys become own data properties. Malformed text is a 400 naming the position.
 *
 * @internal
 */
export function parseJsonLossless(text: string): unknown {
  return new LosslessJsonParser(text).parse();
}
