import { Buffer } from 'node:buffer';
/**
 * The elements of a BYTES tensor, stored compactly: every element's bytes one after another in one buffer,
 * and `length + 1` offsets into it (element `i` is `bytes[offsets[i] .. offsets[i + 1])`). A million
 * one-byte elements cost about 5 MB here, not a million Buffer objects.
 *
 * Elements are read as Buffers that share the memory (`at(i)`, iteration) or as text (`text(i)`); nothing
 * is copied until asked for (`toArray()`, `toStrings()`).
 *
 * @example
 * const names = request.inputs[0].data as ByteStrings;
 * for (const name of names) console.log(name.toString());   // each a Buffer view
 * const first = names.text(0);                                // UTF-8 text of element 0
 * return { outputs: [{ name: 'y', datatype: 'BYTES', data: ByteStrings.from(['a', 'b']) }] };
 * @publicApi
 */
export class ByteStrings implements Iterable<Buffer> {
  /**
   * @param bytes every element's bytes, one after another (may be a view of a larger buffer)
   * @param offsets `length + 1` ascending offsets into `bytes`; the first is 0 or more, the last at most `bytes.length`
   */
  constructor(
    readonly bytes: Buffer,
    readonly offsets: Uint32Array,
  ) {
    if (offsets.length === 0) throw new RangeError('ByteStrings needs at least one offset (length + 1 of them)');
    if (offsets[offsets.length - 1] > bytes.length) throw new RangeError('ByteStrings offsets point past the end of its bytes');
  }

  /** The number of elements. */
  get length(): number {
    return this.offsets.length - 1;
  }

  /** The bytes of all elements together (without the offsets). */
  get byteLength(): number {
    return this.offsets[this.offsets.length - 1] - this.offsets[0];
  }

  /** Element `i` as a Buffer sharing this container's memory; a RangeError outside `0 .. length - 1`. */
  at(i: number): Buffer {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`element ${i} is out of range (${this.length} elements)`);
    return this.bytes.subarray(this.offsets[i], this.offsets[i + 1]);
  }

  /** The byte length of element `i`. */
  sizeOf(i: number): number {
    return this.offsets[i + 1] - this.offsets[i];
  }

  /** Element `i` as text (UTF-8 unless told otherwise). */
  text(i: number, encoding: BufferEncoding = 'utf8'): string {
    const o = this.offsets;
    if (!Number.isInteger(i) || i < 0 || i >= o.length - 1) throw new RangeError(`element ${i} is out of range (${this.length} elements)`);
    return this.bytes.toString(encoding, o[i], o[i + 1]);
  }

  *[Symbol.iterator](): Iterator<Buffer> {
    const o = this.offsets;
    for (let i = 0; i + 1 < o.length; i++) yield this.bytes.subarray(o[i], o[i + 1]);
  }

  /** Every element as its own Buffer (views, not copies). */
  toArray(): Buffer[] {
    const n = this.length;
    const out = new Array<Buffer>(n);
    for (let i = 0; i < n; i++) out[i] = this.bytes.subarray(this.offsets[i], this.offsets[i + 1]);
    return out;
  }

  /** Every element as text (UTF-8 unless told otherwise). */
  toStrings(encoding: BufferEncoding = 'utf8'): string[] {
    const n = this.length;
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.bytes.toString(encoding, this.offsets[i], this.offsets[i + 1]);
    return out;
  }

  /** Elements `start .. end - 1` as a new container sharing this one's memory. */
  slice(start: number, end: number = this.length): ByteStrings {
    return new ByteStrings(this.bytes, this.offsets.subarray(start, end + 1));
  }

  /** A container of `items` (strings as UTF-8), copied into one buffer. */
  static from(items: Iterable<string | Uint8Array> | ArrayLike<string | Uint8Array>): ByteStrings {
    const list = Array.isArray(items) ? (items as readonly (string | Uint8Array)[]) : Array.from(items as Iterable<string | Uint8Array>);
    const n = list.length;
    const offsets = new Uint32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const item = list[i];
      total += typeof item === 'string' ? Buffer.byteLength(item, 'utf8') : item.byteLength;
      offsets[i + 1] = total;
    }
    const bytes = Buffer.allocUnsafe(total);
    for (let i = 0; i < n; i++) {
      const item = list[i];
      if (typeof item === 'string') bytes.write(item, offsets[i], 'utf8');
      else bytes.set(item, offsets[i]);
    }
    return new ByteStrings(bytes, offsets);
  }

  /** The elements of several containers, in order, copied into one. */
  static concat(parts: readonly ByteStrings[]): ByteStrings {
    let n = 0;
    let total = 0;
    for (const p of parts) {
      n += p.length;
      total += p.byteLength;
    }
    const bytes = Buffer.allocUnsafe(total);
    const offsets = new Uint32Array(n + 1);
    let at = 0;
    let k = 0;
    for (const p of parts) {
      const base = p.offsets[0];
      bytes.set(p.bytes.subarray(base, p.offsets[p.length]), at);
      for (let i = 1; i <= p.length; i++) offsets[++k] = at + p.offsets[i] - base;
      at += p.byteLength;
    }
    return new ByteStrings(bytes, offsets);
  }
}
