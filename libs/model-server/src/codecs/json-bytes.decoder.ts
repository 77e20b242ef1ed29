import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { isUtf8 } from 'node:buffer';
import { convertElement, elementValue } from './json-element.util';
import { hex4, sequenceStart, simpleEscape } from './json-string.util';
import type { SlicedWork } from './time-slice.util';
import type { CodecErrorFactory } from '../errors';

/** String content is handled in pieces of at most this many bytes, the clock checked between them. */
const PIECE = 1 << 20;
/** Runs of plain bytes at least this long are copied natively. */
const COPY_RUN = 64;
/** Elements between clock checks. */
const FUEL = 4096;

/**
 * The bytes of the BYTES elements of a well-formed JSON tensor-data array (`start`..`end` of the body): each string
 * as the UTF-8 bytes of its text, exactly what `Buffer.from(JSON.parse(...)[i])` gives (escapes decoded straight
 * into bytes, a lone surrogate escape as U+FFFD, invalid UTF-8 as U+FFFD) without building the string. With no
 * `bytes` it only measures (the total, before anything is allocated); with them it fills `bytes` and `offsets`.
 * An element that is not a string gets the shared converter's error. Runs in slices; long strings in pieces.
 *
 * @internal
 */
export class BytesSpanDecoder implements SlicedWork {
  /** Bytes measured or written so far. */
  total = 0;
  private p: number;
  private i = 0;
  private inString = false;

  constructor(
    private readonly b: Buffer,
    start: number,
    private readonly end: number,
    private readonly bytes: Buffer | null,
    private readonly offsets: Uint32Array | null,
    private readonly where: string,
    private readonly fail: CodecErrorFactory,
  ) {
    this.p = start;
  }

  step(deadline: number): boolean {
    const b = this.b;
    const end = this.end;
    let p = this.p;
    let fuel = FUEL;
    while (p < end) {
      if (this.inString) {
        p = this.stringPiece(p);
        if (this.inString && performance.now() > deadline) break;
        if (--fuel === 0) {
          fuel = FUEL;
          if (performance.now() > deadline) break;
        }
        continue;
      }
      const c = b[p];
      if (c === 0x2c || c === 0x20 || c === 0x5b || c === 0x5d || c === 0x0a || c === 0x0d || c === 0x09) {
        p++;
        continue;
      }
      if (c !== 0x22) convertElement(elementValue(b, p), this.i, 'BYTES', this.where, this.fail);
      this.inString = true;
      p++;
    }
    this.p = p;
    return p >= end;
  }

  /** Handles string content from `p` up to its closing quote or one piece, whichever comes first. */
  private stringPiece(p: number): number {
    const b = this.b;
    const bytes = this.bytes;
    const stop = this.end - p > PIECE ? p + PIECE : this.end;
    let o = this.total;
    while (p < stop) {
      const c = b[p];
      if (c === 0x22) {
        this.total = o;
        this.inString = false;
        const offsets = this.offsets;
        if (offsets !== null) offsets[++this.i] = o;
        else this.i++;
        return p + 1;
      }
      if (c === 0x5c) {
        p = this.escape(p, o);
        o = this.total;
        continue;
      }
      // A run of plain bytes, to the next quote or backslash (or the piece's end).
      let r = p;
      let high = false;
      for (let d = c; r < stop && d !== 0x22 && d !== 0x5c; d = b[++r]) if (d >= 0x80) high = true;
      if (high && r === stop && r < this.end) r = sequenceStart(b, p, r);
      if (high && !isUtf8(b.subarray(p, r))) {
        // Invalid UTF-8: the bytes of its text, as decoding the body would give it (U+FFFD for bad sequences).
        const text = b.toString('utf8', p, r);
        if (bytes !== null) o += bytes.write(text, o, 'utf8');
        else o += Buffer.byteLength(text, 'utf8');
      } else if (bytes === null) o += r - p;
      else if (r - p >= COPY_RUN) o += b.copy(bytes, o, p, r);
      else for (let q = p; q < r; q++) bytes[o++] = b[q];
      p = r;
    }
    this.total = o;
    return p;
  }

  /** Decodes the escape at `p` into UTF-8 at `o` (or counts it); returns the offset after it. */
  private escape(p: number, o: number): number {
    const b = this.b;
    const e = b[p + 1];
    let cp: number;
    if (e === 0x75) {
      cp = hex4(b, p + 2);
      p += 6;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        // A high surrogate pairs with a low one escaped right after it; alone, it is U+FFFD (as Buffer.from writes it).
        const low = b[p] === 0x5c && b[p + 1] === 0x75 ? hex4(b, p + 2) : -1;
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          p += 6;
        } else cp = 0xfffd;
      } else if (cp >= 0xdc00 && cp <= 0xdfff) cp = 0xfffd;
    } else {
      cp = simpleEscape(e);
      p += 2;
    }
    const bytes = this.bytes;
    if (bytes === null) {
      this.total = o + (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);
      return p;
    }
    if (cp < 0x80) bytes[o++] = cp;
    else if (cp < 0x800) {
      bytes[o++] = 0xc0 | (cp >> 6);
      bytes[o++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      bytes[o++] = 0xe0 | (cp >> 12);
      bytes[o++] = 0x80 | ((cp >> 6) & 0x3f);
      bytes[o++] = 0x80 | (cp & 0x3f);
    } else {
      bytes[o++] = 0xf0 | (cp >> 18);
      bytes[o++] = 0x80 | ((cp >> 12) & 0x3f);
      bytes[o++] = 0x80 | ((cp >> 6) & 0x3f);
      bytes[o++] = 0x80 | (cp & 0x3f);
    }
    this.total = o;
    return p;
  }
}
