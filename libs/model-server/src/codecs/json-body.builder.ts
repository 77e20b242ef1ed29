import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { DeferredTensorData } from './deferred-tensor-data';
import { setMember } from './json.parser';
import { JsonNumberReader } from './json-number.util';
import { decodeJsonString, JsonStringDecoder, jsonStringEnd } from './json-string.util';
import type { SlicedWork } from './time-slice.util';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
/** Values built between clock checks. */
const FUEL = 1024;

/** An open object, or null for an open array (its elements gather in the builder's `items` until it closes). */
type Container = Record<string, unknown> | null;

/**
 * The second pass over a large JSON body that {@link JsonBodyScanner} has checked: builds its values as the exact
 * parser would (integers beyond 2^53 as bigint, `__proto__` an own property), leaving the scanner's spans as
 * {@link DeferredTensorData} and building its long strings in pieces. It runs in slices; it trusts the body to be
 * well-formed, so it checks nothing.
 *
 * An array's elements are gathered first and the array made at its `]` with room for exactly those: an array grown
 * by `push` reserves 17 slots at its first element, so `[0]` took 190 bytes of heap instead of 64, and a body of
 * small rows several times what the scanner's estimate allows.
 *
 * @internal
 */
export class JsonBodyBuilder implements SlicedWork {
  /** The body's value, once done. */
  result: unknown = undefined;

  private p = 0;
  private readonly stack: Container[] = [];
  private readonly keys: string[] = [];
  /** Where each open array's elements start in {@link items} (unused for objects). */
  private readonly starts: number[] = [];
  /** The elements of the open arrays, innermost last; the first {@link itemCount} are live. */
  private readonly items: unknown[] = [];
  private itemCount = 0;
  private spanIndex = 0;
  private longIndex = 0;
  /** A long string being built, and the offset after its quote. */
  private long: JsonStringDecoder | null = null;
  private longEnd = 0;
  private readonly number = new JsonNumberReader();

  constructor(
    private readonly b: Buffer,
    private readonly spans: readonly DeferredTensorData[],
    private readonly longStrings: readonly number[],
  ) {}

  step(deadline: number): boolean {
    const b = this.b;
    const stack = this.stack;
    const keys = this.keys;
    const starts = this.starts;
    let p = this.p;
    let fuel = FUEL;
    for (;;) {
      let value: unknown;
      if (this.long !== null) {
        if (!this.long.step(deadline)) return false;
        value = this.long.text;
        this.long = null;
        p = this.longEnd;
      } else {
        if (--fuel === 0) {
          fuel = FUEL;
          if (performance.now() > deadline) {
            this.p = p;
            return false;
          }
        }
        let c = b[p];
        while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p];
        if (c === 0x22) {
          const longStrings = this.longStrings;
          if (this.longIndex < longStrings.length && longStrings[this.longIndex] === p) {
            this.longEnd = longStrings[this.longIndex + 1];
            this.long = new JsonStringDecoder(b, p + 1, this.longEnd - 1);
            this.longIndex += 2;
            continue;
          }
          const end = jsonStringEnd(b, p + 1);
          value = decodeJsonString(b, p + 1, end);
          p = end + 1;
        } else if (c === 0x5b) {
          const span = this.spanIndex < this.spans.length ? this.spans[this.spanIndex] : undefined;
          if (span !== undefined && span.start === p) {
            value = span;
            p = span.end;
            this.spanIndex++;
          } else {
            c = b[++p];
            while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p];
            if (c !== 0x5d) {
              stack.push(null);
              keys.push('');
              starts.push(this.itemCount);
              continue;
            }
            p++;
            value = [];
          }
        } else if (c === 0x7b) {
          c = b[++p];
          while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p];
          if (c !== 0x7d) {
            stack.push({});
            keys.push(this.readKey(p));
            starts.push(0);
            p = this.p;
            continue;
          }
          p++;
          value = {};
        } else if (c === 0x74) {
          value = true;
          p += 4;
        } else if (c === 0x66) {
          value = false;
          p += 5;
        } else if (c === 0x6e) {
          value = null;
          p += 4;
        } else {
          value = this.readNumber(p);
          p = this.number.end;
        }
      }
      // Attach the value to its container; close containers that end here.
      for (;;) {
        const top = stack.length - 1;
        let d = b[p];
        while (d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) d = b[++p];
        if (top < 0) {
          this.result = value;
          this.p = p;
          return true;
        }
        const container = stack[top];
        if (container === null) {
          this.items[this.itemCount++] = value;
          if (d === 0x2c) {
            p++;
            break;
          }
        } else {
          setMember(container, keys[top], value);
          if (d === 0x2c) {
            keys[top] = this.readKey(p + 1);
            p = this.p;
            break;
          }
        }
        p++;
        value = container === null ? this.closeArray(starts[top]) : container;
        stack.pop();
        keys.pop();
        starts.pop();
      }
    }
  }

  /** The array whose elements start at `start` in {@link items}, exactly as long as they are; they leave `items`. */
  private closeArray(start: number): unknown[] {
    const items = this.items;
    const n = this.itemCount - start;
    const array = new Array<unknown>(n);
    for (let i = 0; i < n; i++) array[i] = items[start + i];
    this.itemCount = start;
    return array;
  }

  /** Reads the key at or after `p` and the `:` after it; leaves the offset after the `:` in `this.p`. */
  private readKey(p: number): string {
    const b = this.b;
    let c = b[p];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p];
    const end = jsonStringEnd(b, p + 1);
    const key = decodeJsonString(b, p + 1, end);
    p = end + 1;
    c = b[p];
    while (c !== 0x3a) c = b[++p];
    this.p = p + 1;
    return key;
  }

  private readNumber(p: number): number | bigint {
    const number = this.number;
    number.read(this.b, p);
    if (!number.integer || number.intDigits <= 15) return number.value;
    const big = BigInt(this.b.toString('latin1', p, number.end));
    return big >= MIN_SAFE && big <= MAX_SAFE ? Number(big) : big;
  }
}
