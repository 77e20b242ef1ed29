import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { malformedJson } from '../errors/codec.errors';
import type { SlicedWork } from './time-slice.util';

/** The character a simple escape (`\n`, `\"`...) stands for, by the byte after the backslash; 0 for none. */
const SIMPLE_ESCAPES = new Uint16Array(128);
SIMPLE_ESCAPES[0x22] = 0x22;
SIMPLE_ESCAPES[0x5c] = 0x5c;
SIMPLE_ESCAPES[0x2f] = 0x2f;
SIMPLE_ESCAPES[0x62] = 0x08;
SIMPLE_ESCAPES[0x66] = 0x0c;
SIMPLE_ESCAPES[0x6e] = 0x0a;
SIMPLE_ESCAPES[0x72] = 0x0d;
SIMPLE_ESCAPES[0x74] = 0x09;

/** The value of a hex digit byte, or -1. */
export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/** The code unit of the 4 hex digits at `p` (checked well-formed), e.g. `00e9` → 0xe9. @internal */
export function hex4(b: Buffer, p: number): number {
  return (hexValue(b[p]) << 12) | (hexValue(b[p + 1]) << 8) | (hexValue(b[p + 2]) << 4) | hexValue(b[p + 3]);
}

/** The character a simple escape `\e` stands for (`e` the byte after the backslash), 0 for `u` and others. @internal */
export function simpleEscape(e: number): number {
  return e < 128 ? SIMPLE_ESCAPES[e] : 0;
}

/**
 * Checks the escape whose backslash is at `p` (`\n`, `\u00e9`...), with the exact parser's messages.
 *
 * @internal
 */
export function checkJsonEscape(b: Buffer, p: number): void {
  const e = b[p + 1];
  if (e === 0x75) {
    if (hexValue(b[p + 2]) < 0 || hexValue(b[p + 3]) < 0 || hexValue(b[p + 4]) < 0 || hexValue(b[p + 5]) < 0) {
      throw malformedJson('invalid \\u escape in a string', p);
    }
  } else if (!(e < 128 && SIMPLE_ESCAPES[e] !== 0)) throw malformedJson('invalid escape in a string', p);
}

/**
 * The offset of the closing quote of the well-formed string whose content starts at `p`.
 *
 * @internal
 */
export function jsonStringEnd(b: Buffer, p: number): number {
  for (;;) {
    const c = b[p];
    if (c === 0x22) return p;
    p += c === 0x5c ? 2 : 1;
  }
}

/**
 * The first UTF-16 unit of the character at `p`, as error messages quote it (`character "x"`): the same unit the
 * body's text, decoded as UTF-8, has there.
 *
 * @internal
 */
export function characterAt(b: Buffer, p: number): string {
  return b.toString('utf8', p, Math.min(b.length, p + 4))[0];
}

/** Code units gathered between flushes; shared, and always flushed before a step returns. */
const UNITS = new Uint16Array(8192);
/** Raw runs at least this long are decoded straight into the text rather than gathered as units. */
const DIRECT_RUN = 256;
/** A raw run is decoded in pieces of at most this many bytes, so one step stays short. */
const RUN_PIECE = 1 << 20;

function unitsText(k: number): string {
  return String.fromCharCode.apply(null, UNITS.subarray(0, k) as unknown as number[]);
}

/**
 * Decodes the content of a well-formed JSON string (`start`..`end`, between its quotes) into the JS string
 * `JSON.parse` gives for it, in slices: raw runs as UTF-8 (invalid bytes become U+FFFD, as when the whole body is
 * decoded: a run always ends at an ASCII byte), escapes as their code units (a lone surrogate stays one).
 * Many short pieces are gathered as code units, so a string of millions of escapes is not millions of joins.
 *
 * @internal
 */
export class JsonStringDecoder implements SlicedWork {
  text = '';

  constructor(
    private readonly b: Buffer,
    private p: number,
    private readonly end: number,
  ) {}

  step(deadline: number): boolean {
    const b = this.b;
    const end = this.end;
    let p = this.p;
    let text = this.text;
    let k = 0;
    let ops = 0;
    while (p < end) {
      if ((++ops & 1023) === 0 && performance.now() > deadline) break;
      const c = b[p];
      if (c === 0x5c) {
        if (k === UNITS.length) {
          text += unitsText(k);
          k = 0;
        }
        const e = b[p + 1];
        if (e === 0x75) {
          UNITS[k++] = hex4(b, p + 2);
          p += 6;
        } else {
          UNITS[k++] = SIMPLE_ESCAPES[e];
          p += 2;
        }
        continue;
      }
      const stop = end - p > RUN_PIECE ? p + RUN_PIECE : end;
      let r = p;
      let ascii = true;
      while (r < stop) {
        const d = b[r];
        if (d === 0x5c) break;
        if (d >= 0x80) ascii = false;
        r++;
      }
      if (r === stop && r < end && !ascii) r = sequenceStart(b, p, r);
      if (r - p >= DIRECT_RUN) {
        if (k > 0) {
          text += unitsText(k);
          k = 0;
        }
        text += b.toString(ascii ? 'latin1' : 'utf8', p, r);
        p = r;
        if (performance.now() > deadline) break;
        continue;
      }
      if (k + (r - p) > UNITS.length) {
        text += unitsText(k);
        k = 0;
      }
      if (ascii) {
        for (; p < r; p++) UNITS[k++] = b[p];
      } else {
        const piece = b.toString('utf8', p, r);
        for (let j = 0; j < piece.length; j++) UNITS[k++] = piece.charCodeAt(j);
        p = r;
      }
    }
    if (k > 0) text += unitsText(k);
    this.text = text;
    this.p = p;
    return p >= end;
  }
}

/**
 * Where to cut a run of bytes `p`..`r` at `r` without splitting a UTF-8 sequence: back to the byte that starts the
 * sequence `r` falls in (at most 3 bytes back), unless the run would be left empty. Decoding the two parts apart
 * then gives what decoding them together does.
 *
 * @internal
 */
export function sequenceStart(b: Buffer, p: number, r: number): number {
  let q = r;
  for (let i = 0; i < 3 && q > p + 1 && (b[q] & 0xc0) === 0x80; i++) q--;
  return (b[q] & 0xc0) === 0x80 ? r : q;
}

/**
 * The JS string of the well-formed JSON string content `start`..`end`, at once (for keys and short values).
 *
 * @internal
 */
export function decodeJsonString(b: Buffer, start: number, end: number): string {
  let p = start;
  let ascii = true;
  while (p < end) {
    const c = b[p];
    if (c === 0x5c) break;
    if (c >= 0x80) ascii = false;
    p++;
  }
  if (p === end) return b.toString(ascii ? 'latin1' : 'utf8', start, end);
  const decoder = new JsonStringDecoder(b, start, end);
  decoder.step(Infinity);
  return decoder.text;
}

/**
 * The first characters of the string content at `start`..`end`: at least 41 UTF-16 units when the string has
 * more (every unit takes at most 6 bytes of JSON), enough for an error message to quote it as it would the
 * whole string, without decoding a long one.
 *
 * @internal
 */
export function decodeJsonStringPrefix(b: Buffer, start: number, end: number): string {
  let p = start;
  while (p < end && p < start + 256) p += b[p] === 0x5c ? (b[p + 1] === 0x75 ? 6 : 2) : 1;
  while (p < end && (b[p] & 0xc0) === 0x80) p++;
  return decodeJsonString(b, start, p < end ? p : end);
}
