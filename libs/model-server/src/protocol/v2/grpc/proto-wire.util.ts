import { Buffer } from 'node:buffer';
import type { ModelServerError } from '../../../errors/model-server.error';
import { malformedMessage } from '../../../errors/codec.errors';

/** Protobuf wire types (https://protobuf.dev/programming-guides/encoding/). @internal */
export const WT_VARINT = 0;
/** @internal */
export const WT_FIXED64 = 1;
/** @internal */
export const WT_BYTES = 2;
/** @internal */
export const WT_FIXED32 = 5;

const TWO_32 = 4294967296;

/**
 * Reads protobuf wire data from a Buffer between `pos` and `end`, for the hand-written codecs of the hot messages.
 * 64-bit varints are read as two unsigned 32-bit halves (`lo`, `hi`) so no value loses precision and no bigint
 * is built per element. Every read is bounds-checked; a problem throws an INVALID_ARGUMENT naming `message`.
 *
 * @internal
 */
export class ProtoReader {
  /** Low 32 bits of the last 64-bit varint or fixed64 read (unsigned). */
  lo = 0;
  /** High 32 bits of the last 64-bit varint or fixed64 read (unsigned). */
  hi = 0;

  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
    readonly message: string,
  ) {}

  /** Reads a field's tag: `field << 3 | wireType`. */
  tag(): number {
    const buf = this.buf;
    const b = buf[this.pos];
    if (b < 0x80 && this.pos < this.end) {
      this.pos++;
      if (b >>> 3 === 0) throw this.fail('a field number is 0');
      return b;
    }
    this.varint();
    if (this.hi !== 0 || this.lo >>> 3 === 0) throw this.fail('a field tag is out of range');
    return this.lo;
  }

  /** Reads a varint of up to 10 bytes into `lo` / `hi`. */
  varint(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let b: number;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw this.fail('a varint is cut short');
      b = buf[pos++];
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        this.pos = pos;
        return;
      }
    }
    if (pos >= end) throw this.fail('a varint is cut short');
    b = buf[pos++];
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x7f) >>> 4;
    if (b >= 0x80) {
      for (let shift = 3; ; shift += 7) {
        if (shift > 31) throw this.fail('a varint is longer than 10 bytes');
        if (pos >= end) throw this.fail('a varint is cut short');
        b = buf[pos++];
        hi |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    this.pos = pos;
  }

  /** Reads a varint that must fit an unsigned 32-bit number (lengths, booleans, small values). */
  uint32(): number {
    const b = this.buf[this.pos];
    if (b < 0x80 && this.pos < this.end) {
      this.pos++;
      return b;
    }
    this.varint();
    return this.lo;
  }

  /** Reads a length prefix; returns the end of the delimited bytes, which start at `pos`. */
  delimited(): number {
    this.varint();
    const len = this.lo;
    if (this.hi !== 0 || len > this.end - this.pos) throw this.fail('a length-delimited field runs past the end of its message');
    return this.pos + len;
  }

  /** Reads a length-delimited string. */
  string(): string {
    const end = this.delimited();
    const s = end === this.pos ? '' : this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }

  /** Reads a length-delimited field as a view of the same memory (no copy). */
  bytes(): Buffer {
    const end = this.delimited();
    const b = this.buf.subarray(this.pos, end);
    this.pos = end;
    return b;
  }

  /** Reads 8 little-endian bytes into `lo` / `hi`. */
  fixed64(): void {
    if (this.end - this.pos < 8) throw this.fail('a fixed64 field is cut short');
    this.lo = this.buf.readUInt32LE(this.pos);
    this.hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
  }

  /** Skips a field of an unknown number. */
  skip(wireType: number): void {
    switch (wireType) {
      case WT_VARINT:
        this.varint();
        return;
      case WT_FIXED64:
        if (this.end - this.pos < 8) throw this.fail('a fixed64 field is cut short');
        this.pos += 8;
        return;
      case WT_BYTES:
        this.pos = this.delimited();
        return;
      case WT_FIXED32:
        if (this.end - this.pos < 4) throw this.fail('a fixed32 field is cut short');
        this.pos += 4;
        return;
      default:
        throw this.fail(`wire type ${wireType} is not supported (groups are not part of proto3)`);
    }
  }

  /** A field number arrived with another wire type than the schema gives it. */
  wrongType(field: number, wireType: number): ModelServerError {
    return this.fail(`field ${field} has wire type ${wireType}, which its type does not allow`);
  }

  fail(what: string): ModelServerError {
    return malformedMessage(this.message, what);
  }
}

/** The signed value of a 64-bit two's-complement pair as a number (exact up to 2^53). @internal */
export function int64ToNumber(lo: number, hi: number): number {
  if (hi >= 0x80000000) return -((~hi >>> 0) * TWO_32 + (~lo >>> 0) + 1);
  return hi * TWO_32 + lo;
}

/** The unsigned value of a 64-bit pair as a number (exact up to 2^53). @internal */
export function uint64ToNumber(lo: number, hi: number): number {
  return hi * TWO_32 + lo;
}

/** Bytes a varint of an unsigned 32-bit value takes. @internal */
export function varint32Size(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes a varint of a 64-bit value (unsigned halves) takes. @internal */
export function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varint32Size(lo);
  if (hi < 0x8) return 5;
  if (hi < 0x400) return 6;
  if (hi < 0x20000) return 7;
  if (hi < 0x1000000) return 8;
  if (hi < 0x80000000) return 9;
  return 10;
}

/** Strings up to this length are written char by char when ASCII: cheaper than a native call each. */
const SHORT_STRING = 64;

/** Bytes a length-delimited field takes, tag included (field numbers below 16). @internal */
export function delimitedSize(len: number): number {
  return 1 + varint32Size(len) + len;
}

/**
 * Writes protobuf wire data into a Buffer allocated once at its exact final size (the encoders compute sizes
 * first). Field numbers used here are all below 16, so a tag is one byte.
 *
 * @internal
 */
export class ProtoWriter {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  tag(field: number, wireType: number): void {
    this.buf[this.pos++] = (field << 3) | wireType;
  }

  /** An unsigned 32-bit varint. */
  uint32(v: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** A 64-bit varint from unsigned halves. */
  varint64(lo: number, hi: number): void {
    if (hi === 0) {
      this.uint32(lo);
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    // The low 28 bits, 7 at a time, then 4 low bits with 3 high bits.
    for (let i = 0; i < 4; i++) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    let v = (lo & 0x0f) | ((hi & 0x07) << 4);
    hi >>>= 3;
    buf[pos++] = hi === 0 ? v : v | 0x80;
    while (hi !== 0) {
      v = hi & 0x7f;
      hi >>>= 7;
      buf[pos++] = hi === 0 ? v : v | 0x80;
    }
    this.pos = pos;
  }

  /** A length-delimited field holding the given bytes. */
  bytesField(field: number, src: Uint8Array): void {
    this.tag(field, WT_BYTES);
    this.uint32(src.byteLength);
    this.buf.set(src, this.pos);
    this.pos += src.byteLength;
  }

  /**
   * A length-delimited string field whose UTF-8 length is `len`. A short string whose UTF-8 length is its
   * length is ASCII: its chars are its bytes, copied without a native call.
   */
  stringField(field: number, s: string, len: number): void {
    this.tag(field, WT_BYTES);
    this.uint32(len);
    if (len === s.length && len <= SHORT_STRING) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < len; i++) buf[pos++] = s.charCodeAt(i);
      this.pos = pos;
    } else if (len > 0) {
      this.pos += this.buf.write(s, this.pos, len, 'utf8');
    }
  }

  /** Bytes already encoded (nested fields encoded elsewhere). */
  raw(src: Uint8Array): void {
    this.buf.set(src, this.pos);
    this.pos += src.byteLength;
  }
}
