import { Buffer } from 'node:buffer';
/**
 * The `data` array of a tensor in a large JSON body, not yet turned into values: the body and the byte range of
 * the array. {@link parseJsonBody} leaves these in `inputs[i].data` (already checked to be well-formed JSON, its
 * elements counted); {@link decodeDeferredData} replaces each with the tensor's typed container once the request's
 * structure has been checked, converting the text straight into it (no JS value per element).
 *
 * Written as JSON (`JSON.stringify`, monitoring records of a refused request) it is a short note of its size,
 * never its bytes.
 *
 * @internal
 */
export class DeferredTensorData {
  constructor(
    /** The whole body the array sits in. */
    readonly body: Buffer,
    /** The offset of its `[`. */
    readonly start: number,
    /** The offset just after its `]`. */
    readonly end: number,
    /** Its elements: every value in it that is not an array, at any depth (what flattening it would give). */
    readonly elements: number,
    /** How many of those are strings. */
    readonly strings: number,
    /** The bytes between the quotes of those strings, escapes as written. */
    readonly stringBytes: number,
    /** True when no string in it has an escape or a non-ASCII byte (the bytes are the text). */
    readonly plainStrings: boolean,
  ) {}

  /** The length of its JSON text in bytes. */
  get byteLength(): number {
    return this.end - this.start;
  }

  toJSON(): string {
    return `[${this.elements} elements in ${this.byteLength} bytes of JSON, not decoded]`;
  }
}
