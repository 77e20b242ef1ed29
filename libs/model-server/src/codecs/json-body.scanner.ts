import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { DeferredTensorData } from './deferred-tensor-data';
import { jsonValuesTooLarge, keyTooLong, malformedJson } from '../errors/codec.errors';
import { DEFAULT_MAX_JSON_VALUE_BYTES, JSON_VALUE_COST, MAX_KEY_BYTES } from './json-limits';
import { checkJsonNumber } from './json-number.util';
import { MAX_JSON_DEPTH } from './json.parser';
import { characterAt, checkJsonEscape, decodeJsonString } from './json-string.util';
import type { SlicedWork } from './time-slice.util';

/** Which arrays of a body are left as {@link DeferredTensorData}. @internal */
export interface SpanPolicy {
  /**
   * Also the rows forms of `application/json` bodies: a root array, `instances`, and `inputs` when its first
   * element is not an object.
   */
  readonly rows: boolean;
  /** Keys leading from the root to the v2 request (a model's body input path), empty when it is the root. */
  readonly path: readonly string[];
  /** The body holds no v2 request (an OpenAI completion): nothing is left deferred, every value counts. */
  readonly valuesOnly?: boolean;
}

/** The v2 request at the root: `inputs[i].data`. @internal */
export const V2_SPANS: SpanPolicy = { rows: false, path: [] };

/** `application/json` bodies of the content codec: a v2 request's `inputs[i].data`, or rows. @internal */
export const ROWS_SPANS: SpanPolicy = { rows: true, path: [] };

/** A body of plain JSON values (no tensor data): all of it built, all of it counted. @internal */
export const NO_SPANS: SpanPolicy = { rows: false, path: [], valuesOnly: true };

/** What the scanner expects next. */
const VALUE = 0;
const AFTER = 1;
const KEY = 2;
const STRING = 3;

const ARRAY = 1;
const OBJECT = 2;

/** Roles of an open container. */
const OTHER = 0;
const REQUEST = 1;
const INPUTS = 2;
const INPUT = 3;
/** The request's `outputs` (requested outputs): only counted. */
const OUTPUTS = 4;
/** An object on the way to the request: PATH + the index of the key it leads on by. */
const PATH = 16;

/** What the next value is, from the key before it. */
const NEXT_INPUTS = 1;
const NEXT_DATA = 2;
const NEXT_INSTANCES = 3;
const NEXT_OUTPUTS = 4;
/** NEXT_PATH + k: the object that is to hold key k of the path (k = path length: the request). */
const NEXT_PATH = 16;

/** Tokens between clock checks. */
const FUEL = 4096;
/** Numbers of tensor data taken in one run (counted as that many tokens). */
const NUMBER_RUN = 1024;
/** A string is scanned in pieces of this many bytes, the clock checked between them. */
const STRING_PIECE = 1 << 20;
/** Strings outside tensor data at least this long are built in slices by the builder. */
export const LONG_STRING_BYTES = 1 << 20;
/** Keys longer than this (in JSON bytes) cannot spell any key the scanner looks for. */
const KEY_COMPARE_BYTES = 1024;

/** String flags. */
const ESCAPED = 1;
const HIGH = 2;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The cost of a number literal `b[start..end)` outside tensor data: a small integer is a Smi, anything else a heap number or a bigint. */
function numberCost(b: Buffer, start: number, end: number): number {
  if (end - start > 9) return end - start > 15 ? JSON_VALUE_COST.bigint : JSON_VALUE_COST.number;
  for (let p = start; p < end; p++) {
    const c = b[p];
    if (c === 0x2e || c === 0x65 || c === 0x45) return JSON_VALUE_COST.number;
  }
  return JSON_VALUE_COST.smallInteger;
}

/**
 * The first pass over a large JSON body: checks that all of it is well-formed (errors as the exact parser words
 * them, positions in bytes), adds up the heap the values outside tensor data will take once built (an estimate per
 * object, array, key, string and number, {@link JSON_VALUE_COST}; refusing more than its `maxValueBytes`,
 * {@link DEFAULT_MAX_JSON_VALUE_BYTES} by default), and finds the arrays to leave as {@link DeferredTensorData}
 * (`inputs[i].data` of the request, and the rows forms when asked). Nothing is built. It runs in slices
 * ({@link SlicedWork}); long strings are scanned in pieces.
 *
 * @internal
 */
export class JsonBodyScanner implements SlicedWork {
  /** The arrays left as spans, in body order. */
  readonly spans: DeferredTensorData[] = [];
  /** Start offsets (the quote) and end offsets (after the quote) of long strings outside spans, in body order. */
  readonly longStrings: number[] = [];
  /** The estimated heap bytes of the values outside spans, once built. */
  cost = 0;
  /** Objects seen in the request's `inputs` and `outputs` (a refusal says how many it had seen). */
  inputs = 0;
  outputs = 0;

  private p = 0;
  private state = VALUE;
  private depth = 0;
  private readonly kinds = new Uint8Array(MAX_JSON_DEPTH + 1);
  private readonly roles = new Uint16Array(MAX_JSON_DEPTH + 1);
  /** The role of the next value, from its key. */
  private next = 0;
  /** The level of the span's array while inside one, else -1. */
  private spanLevel = -1;
  /** The level of an object inside a span (nothing in it counts), else -1. */
  private skipLevel = -1;
  private spanStart = 0;
  private spanElements = 0;
  private spanStrings = 0;
  private spanStringBytes = 0;
  private spanFlags = 0;
  /** The string being scanned: its quote, whether it is a key, its flags so far. */
  private stringStart = 0;
  private stringIsKey = false;
  private stringFlags = 0;

  constructor(
    private readonly b: Buffer,
    private readonly policy: SpanPolicy,
    /** The most {@link cost} the values outside spans may reach. */
    private readonly maxValueBytes = DEFAULT_MAX_JSON_VALUE_BYTES,
  ) {}

  step(deadline: number): boolean {
    const b = this.b;
    const n = b.length;
    let p = this.p;
    let fuel = FUEL;
    for (;;) {
      if (--fuel === 0) {
        fuel = FUEL;
        if (performance.now() > deadline) {
          this.p = p;
          return false;
        }
      }
      const state = this.state;
      if (state === STRING) {
        p = this.stringPiece(p);
        if (this.state === STRING) fuel = 1; // a long string: check the clock after each piece
        continue;
      }
      let c = b[p];
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p];
      if (state === VALUE) {
        // A key's meaning applies to the value right after it only.
        if (this.next !== 0 && c !== 0x5b && c !== 0x7b) this.next = 0;
        if (c === 0x22) {
          this.stringStart = p;
          this.stringIsKey = false;
          this.stringFlags = 0;
          this.state = STRING;
          p++;
        } else if (c === 0x2d || isDigit(c)) {
          if (this.spanLevel >= 0 && this.skipLevel < 0) {
            p = this.spanNumbers(p);
            fuel = fuel > NUMBER_RUN ? fuel - NUMBER_RUN : 1;
          } else {
            const start = p;
            p = checkJsonNumber(this.b, p);
            if (this.spanLevel < 0) this.add(numberCost(this.b, start, p));
            else this.scalar();
            this.state = AFTER;
          }
        } else if (c === 0x5b) {
          p = this.openArray(p, this.next);
        } else if (c === 0x7b) {
          p = this.openObject(p, this.next);
        } else {
          p = this.literal(p, c);
          if (this.spanLevel < 0) this.add(JSON_VALUE_COST.literal);
          else this.scalar();
          this.state = AFTER;
        }
      } else if (state === AFTER) {
        const depth = this.depth;
        if (depth === 0) {
          if (p < n) throw malformedJson(`unexpected ${this.found(p)} after the JSON value`, p);
          this.p = p;
          return true;
        }
        if (this.kinds[depth - 1] === ARRAY) {
          if (c === 0x2c) {
            p++;
            this.state = VALUE;
          } else if (c === 0x5d) {
            p = this.close(p);
          } else throw malformedJson(`expected ',' or ']' after an array element, found ${this.found(p)}`, p);
        } else if (c === 0x2c) {
          p++;
          this.state = KEY;
        } else if (c === 0x7d) {
          p = this.close(p);
        } else throw malformedJson(`expected ',' or '}' after an object member, found ${this.found(p)}`, p);
      } else {
        // KEY
        if (c !== 0x22) throw malformedJson(`expected a string key, found ${this.found(p)}`, p);
        this.stringStart = p;
        this.stringIsKey = true;
        this.stringFlags = 0;
        this.state = STRING;
        p++;
      }
    }
  }

  private found(p: number): string {
    return p >= this.b.length ? 'end of input' : `character ${JSON.stringify(characterAt(this.b, p))}`;
  }

  /** Counts an element of a span (inside an object of a span: nothing). */
  private scalar(): void {
    if (this.skipLevel < 0) this.spanElements++;
  }

  /** Adds a value outside spans to the estimated cost; refuses the body past the budget. */
  private add(bytes: number): void {
    if ((this.cost += bytes) > this.maxValueBytes) throw jsonValuesTooLarge(this.maxValueBytes, this.inputs, this.outputs);
  }

  private push(kind: number, role: number, p: number): void {
    const depth = this.depth;
    if (depth >= MAX_JSON_DEPTH) throw malformedJson(`nesting deeper than ${MAX_JSON_DEPTH} levels`, p);
    this.kinds[depth] = kind;
    this.roles[depth] = role;
    this.depth = depth + 1;
  }

  private openArray(p: number, next: number): number {
    const b = this.b;
    this.next = 0;
    let role = OTHER;
    if (this.spanLevel < 0) {
      let span = false;
      const rows = this.policy.rows;
      if (next === NEXT_DATA) span = true;
      else if (rows && (next === NEXT_INSTANCES || (this.depth === 0 && this.policy.path.length === 0))) span = true;
      else if (next === NEXT_INPUTS) {
        if (rows) {
          let q = p + 1;
          while (b[q] === 0x20 || b[q] === 0x0a || b[q] === 0x0d || b[q] === 0x09) q++;
          span = b[q] !== 0x7b && b[q] !== 0x5d;
        }
        if (!span) role = INPUTS;
      } else if (next === NEXT_OUTPUTS) role = OUTPUTS;
      if (span) {
        this.push(ARRAY, OTHER, p);
        this.spanLevel = this.depth - 1;
        this.spanStart = p;
        this.spanElements = 0;
        this.spanStrings = 0;
        this.spanStringBytes = 0;
        this.spanFlags = 0;
        return this.afterOpen(p, 0x5d);
      }
      this.add(JSON_VALUE_COST.array);
    }
    this.push(ARRAY, role, p);
    return this.afterOpen(p, 0x5d);
  }

  private openObject(p: number, next: number): number {
    this.next = 0;
    let role = OTHER;
    if (this.spanLevel >= 0) {
      this.push(OBJECT, OTHER, p);
      if (this.skipLevel < 0) {
        this.spanElements++;
        this.skipLevel = this.depth - 1;
      }
      return this.afterOpen(p, 0x7d);
    }
    this.add(JSON_VALUE_COST.object);
    const path = this.policy.path;
    const depth = this.depth;
    if (depth === 0) role = this.policy.valuesOnly === true ? OTHER : path.length === 0 ? REQUEST : PATH;
    else if (next >= NEXT_PATH) role = next - NEXT_PATH === path.length ? REQUEST : PATH + next - NEXT_PATH;
    else if (this.roles[depth - 1] === INPUTS) {
      role = INPUT;
      this.inputs++;
    } else if (this.roles[depth - 1] === OUTPUTS) this.outputs++;
    this.push(OBJECT, role, p);
    return this.afterOpen(p, 0x7d);
  }

  /** After `[` or `{` at `p`: an empty container closes at once, else a value (or key) follows. */
  private afterOpen(p: number, closer: number): number {
    const b = this.b;
    p++;
    let c = b[p];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p];
    if (c === closer) return this.close(p);
    this.state = closer === 0x5d ? VALUE : KEY;
    return p;
  }

  /** Closes the innermost container at its closer `p`; records a span that ends here. */
  private close(p: number): number {
    const level = --this.depth;
    if (level === this.spanLevel) {
      this.spans.push(
        new DeferredTensorData(
          this.b,
          this.spanStart,
          p + 1,
          this.spanElements,
          this.spanStrings,
          this.spanStringBytes,
          this.spanFlags === 0,
        ),
      );
      this.spanLevel = -1;
    } else if (level === this.skipLevel) this.skipLevel = -1;
    this.state = AFTER;
    return p + 1;
  }

  private literal(p: number, c: number): number {
    const b = this.b;
    if (c === 0x74 && b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65) return p + 4;
    if (c === 0x66 && b[p + 1] === 0x61 && b[p + 2] === 0x6c && b[p + 3] === 0x73 && b[p + 4] === 0x65) return p + 5;
    if (c === 0x6e && b[p + 1] === 0x75 && b[p + 2] === 0x6c && b[p + 3] === 0x6c) return p + 4;
    throw malformedJson(p >= b.length ? 'unexpected end of input' : `unexpected ${this.found(p)}`, p);
  }

  /**
   * The common run inside tensor data: numbers separated by commas, taken in one loop (at most NUMBER_RUN of
   * them) without going through the states. Leaves the state as the general loop expects it after the last one.
   */
  private spanNumbers(p: number): number {
    const b = this.b;
    let elements = this.spanElements;
    for (let k = 0; k < NUMBER_RUN; k++) {
      p = checkJsonNumber(this.b, p);
      elements++;
      let c = b[p];
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p];
      if (c !== 0x2c) {
        this.state = AFTER;
        this.spanElements = elements;
        return p;
      }
      c = b[++p];
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p];
      if (c !== 0x2d && !(c >= 0x30 && c <= 0x39)) break;
    }
    this.state = VALUE;
    this.spanElements = elements;
    return p;
  }

  /**
   * Scans a piece of the string whose quote is at `stringStart`, from `p`; at its closing quote the string is
   * counted (or the key handled) and the state moves on; otherwise the state stays STRING.
   */
  private stringPiece(p: number): number {
    const b = this.b;
    const n = b.length;
    const stop = n - p > STRING_PIECE ? p + STRING_PIECE : n;
    let flags = this.stringFlags;
    for (;;) {
      if (p >= stop) {
        if (p >= n) throw malformedJson('unterminated string', this.stringStart);
        this.stringFlags = flags;
        if (this.stringIsKey && p - this.stringStart > MAX_KEY_BYTES) throw keyTooLong(this.stringStart, MAX_KEY_BYTES);
        return p;
      }
      const c = b[p];
      if (c === 0x22) break;
      if (c === 0x5c) {
        checkJsonEscape(b, p);
        flags |= ESCAPED;
        p += b[p + 1] === 0x75 ? 6 : 2;
        continue;
      }
      if (c < 0x20) throw malformedJson('unescaped control character in a string', p);
      if (c >= 0x80) flags |= HIGH;
      p++;
    }
    // The closing quote at p.
    const start = this.stringStart;
    const bytes = p - start - 1;
    p++;
    if (this.stringIsKey) return this.key(start + 1, p - 1, flags, p);
    this.state = AFTER;
    if (this.spanLevel < 0) {
      this.add(JSON_VALUE_COST.string);
      if (bytes >= LONG_STRING_BYTES) this.longStrings.push(start, p);
    } else if (this.skipLevel < 0) {
      this.spanElements++;
      this.spanStrings++;
      this.spanStringBytes += bytes;
      this.spanFlags |= flags;
    }
    return p;
  }

  /** A key ended (content `start`..`end`); `p` is after its quote: reads the `:` and what the key means. */
  private key(start: number, end: number, flags: number, p: number): number {
    const b = this.b;
    if (end - start > MAX_KEY_BYTES) throw keyTooLong(start - 1, MAX_KEY_BYTES);
    if (this.spanLevel < 0) this.add(JSON_VALUE_COST.key);
    let c = b[p];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p];
    if (c !== 0x3a) throw malformedJson(`expected ':' after a key, found ${this.found(p)}`, p);
    this.state = VALUE;
    this.next = 0;
    if (this.spanLevel >= 0) return p + 1;
    const role = this.roles[this.depth - 1];
    if (role === OTHER || end - start > KEY_COMPARE_BYTES) return p + 1;
    const key = flags === 0 ? b.toString('latin1', start, end) : decodeJsonString(b, start, end);
    if (role === REQUEST) {
      if (key === 'inputs') this.next = NEXT_INPUTS;
      else if (key === 'instances' && this.policy.rows) this.next = NEXT_INSTANCES;
      else if (key === 'outputs') this.next = NEXT_OUTPUTS;
    } else if (role === INPUT) {
      if (key === 'data') this.next = NEXT_DATA;
    } else if (role >= PATH) {
      const k = role - PATH;
      if (key === this.policy.path[k]) this.next = NEXT_PATH + k + 1;
    }
    return p + 1;
  }
}
