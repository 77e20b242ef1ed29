import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { ByteStrings } from '../model/byte-strings';
import type { Datatype, TensorData } from '../model/datatype';
import { elementSize, normalizeDatatype } from './datatype.util';
import { formatShape } from './element-count.util';
import { bf16BytesToFloat32Array, halfBytesToFloat32Array } from './fp16.util';
import type { TensorBudget } from './tensor-budget';
import { MAX_BYTES_TOTAL } from './value-converter.util';
import { copyInSlices, runInSlices, type SlicedWork } from './time-slice.util';
import type { WireInferenceRequest, WireTensor } from './wire-tensor.interface';
import type { CodecErrorFactory } from '../errors';

/** Raw data up to this size is copied to aligned memory at once when decoded; larger data in slices, first. */
const ALIGN_AT_ONCE_BYTES = 4 * 1024 * 1024;
const ALIGN_SLICE_BYTES = 1024 * 1024;

/**
 * Raw BYTES data up to this size is split into elements at once when decoded; larger data first, in slices
 * ({@link decodeRawBytesInSlices}): one pass over 64 MiB of short elements holds the loop for hundreds of ms.
 */
const RAW_BYTES_AT_ONCE_BYTES = 1024 * 1024;
/** Elements split (or stepped over, when checking) between two looks at the slice's deadline. */
const RAW_BYTES_SLICE_ELEMENTS = 16 * 1024;

/** A typed-array class that can view an ArrayBuffer. */
type ViewConstructor<T> = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => T;

/**
 * Decodes little-endian raw bytes (binary extension / gRPC raw contents) into the container of `dt`.
 * Numeric data becomes a view of the same memory when its offset is aligned, else an aligned copy;
 * BOOL bytes become 0/1; FP16/BF16 are widened to a Float32Array; BYTES elements (4-byte LE length, then
 * bytes, not necessarily UTF-8) become one compact {@link ByteStrings} (every length checked first, then one
 * copy; no object per element). Sizes must match exactly, and are checked before the decoded size is taken
 * from `budget` and anything is allocated. Assumes a little-endian host (every platform Node ships for in
 * practice).
 *
 * @internal
 */
export function decodeRawData(
  raw: Uint8Array,
  dt: Datatype,
  shape: readonly number[],
  count: number,
  where: string,
  fail: CodecErrorFactory,
  budget: TensorBudget | null = null,
): TensorData {
  if (dt === 'BYTES') return decodeRawBytes(raw, shape, count, where, fail, budget);
  const size = elementSize(dt);
  const expected = count * size;
  if (raw.byteLength !== expected) {
    throw fail(
      `${where}: raw data has ${raw.byteLength} bytes, but shape ${formatShape(shape)} of ${dt} needs ${expected} ` +
        `(${count} elements × ${size} bytes)`,
    );
  }
  if (budget !== null) budget.take(expected, where);
  switch (dt) {
    case 'BOOL':
      return decodeRawBool(raw);
    case 'UINT8':
      return new Uint8Array(raw.buffer, raw.byteOffset, count);
    case 'INT8':
      return new Int8Array(raw.buffer, raw.byteOffset, count);
    case 'UINT16':
      return view(raw, Uint16Array, 2, count);
    case 'INT16':
      return view(raw, Int16Array, 2, count);
    case 'UINT32':
      return view(raw, Uint32Array, 4, count);
    case 'INT32':
      return view(raw, Int32Array, 4, count);
    case 'FP32':
      return view(raw, Float32Array, 4, count);
    case 'UINT64':
      return view(raw, BigUint64Array, 8, count);
    case 'INT64':
      return view(raw, BigInt64Array, 8, count);
    case 'FP64':
      return view(raw, Float64Array, 8, count);
    case 'FP16':
      return halfBytesToFloat32Array(raw, count);
    case 'BF16':
      return bf16BytesToFloat32Array(raw, count);
  }
}

/**
 * Copies large raw inputs whose offset does not suit their datatype (the binary extension puts a tensor's bytes
 * right after the JSON part, at any offset) to aligned memory in slices, the event loop served between them, so
 * that {@link decodeRawData} then views them without a copy that would block the loop (64 MiB: hundreds of ms).
 * Synchronous (undefined) when there is nothing to align.
 *
 * @internal
 */
export function alignLargeRawData(wire: WireInferenceRequest): undefined | Promise<void> {
  let pending: { raw: Uint8Array }[] | undefined;
  for (const input of wire.inputs) {
    if (needsAligning(input)) (pending ??= []).push(input as { raw: Uint8Array });
  }
  return pending === undefined ? undefined : alignInSlices(pending);
}

function needsAligning(input: WireInferenceRequest['inputs'][number]): boolean {
  const raw = input.raw;
  if (raw === undefined || raw === null || raw.byteLength <= ALIGN_AT_ONCE_BYTES) return false;
  const size = ALIGNED_SIZES[input.datatype as Datatype];
  return size !== undefined && raw.byteOffset % size !== 0;
}

/** Element sizes of the datatypes {@link decodeRawData} views in place when aligned. */
const ALIGNED_SIZES: Partial<Record<Datatype, number>> = { UINT16: 2, INT16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8 };

async function alignInSlices(inputs: { raw: Uint8Array }[]): Promise<void> {
  for (const input of inputs) {
    const raw = input.raw;
    const copy = new Uint8Array(raw.byteLength);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < raw.byteLength; at += ALIGN_SLICE_BYTES) pieces.push(raw.subarray(at, at + ALIGN_SLICE_BYTES));
    await copyInSlices(pieces, copy);
    input.raw = copy;
  }
}

function view<T>(raw: Uint8Array, ctor: ViewConstructor<T>, size: number, count: number): T {
  if (raw.byteOffset % size === 0) return new ctor(raw.buffer, raw.byteOffset, count);
  // Every byte is overwritten: no zero fill (its own memory, at offset 0, so aligned).
  const copy = Buffer.allocUnsafeSlow(raw.byteLength);
  copy.set(raw);
  return new ctor(copy.buffer, 0, count);
}

/** 0/1 bytes as they are (a view); any other nonzero byte means true, so those are copied as 1. */
function decodeRawBool(raw: Uint8Array): Uint8Array {
  const n = raw.byteLength;
  let clean = true;
  for (let i = 0; i < n; i++) {
    if (raw[i] > 1) {
      clean = false;
      break;
    }
  }
  if (clean) return new Uint8Array(raw.buffer, raw.byteOffset, n);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = raw[i] === 0 ? 0 : 1;
  return out;
}

/** The 4-byte little-endian length at `p`. */
function lengthAt(raw: Uint8Array, p: number): number {
  return (raw[p] | (raw[p + 1] << 8) | (raw[p + 2] << 16) | (raw[p + 3] << 24)) >>> 0;
}

/**
 * Raw BYTES data whose elements are already split (by {@link decodeRawBytesInSlices}): the same bytes, seen by
 * everything that reads the wire tensor (monitoring logs its size, as of any binary data), and the
 * {@link ByteStrings} they hold, which {@link decodeRawData} then takes as they are.
 */
class SplitRawBytes extends Uint8Array {
  strings: ByteStrings | null = null;
}

/**
 * Length-prefixed elements as one {@link ByteStrings}. The sizes are checked before anything is allocated: at
 * least 4 bytes per element (so a shape of 2^32 elements over a few bytes is a 400, not an allocation), and the
 * budget takes the size of `raw` (the bytes plus 4 per element). One pass then checks each length and copies the
 * element next to the previous one; on any inconsistency {@link checkRawBytes} says exactly what is wrong. Large
 * data already split in slices is taken as it is, after the same checks.
 */
function decodeRawBytes(
  raw: Uint8Array,
  shape: readonly number[],
  count: number,
  where: string,
  fail: CodecErrorFactory,
  budget: TensorBudget | null,
): ByteStrings {
  const end = raw.byteLength;
  const total = checkRawBytesSize(raw, shape, count, where, fail, budget);
  if (end > RAW_BYTES_AT_ONCE_BYTES && raw instanceof SplitRawBytes && raw.strings !== null && raw.strings.length === count) return raw.strings;
  const offsets = new Uint32Array(count + 1);
  const bytes = Buffer.allocUnsafe(total);
  const p = copyRawElements(raw, Buffer.from(raw.buffer, raw.byteOffset, end), bytes, offsets, 0, count, 0);
  if (p !== end) throw checkRawBytes(raw, shape, count, where, fail);
  return new ByteStrings(bytes, offsets);
}

/**
 * The checks made before raw BYTES data is split, at once or in slices: at least 4 bytes per element, the size of
 * `raw` taken from the budget, the elements' bytes within what a tensor may hold. The bytes the elements hold
 * together.
 */
function checkRawBytesSize(
  raw: Uint8Array,
  shape: readonly number[],
  count: number,
  where: string,
  fail: CodecErrorFactory,
  budget: TensorBudget | null,
): number {
  const end = raw.byteLength;
  if (4 * count > end) throw checkRawBytes(raw, shape, count, where, fail);
  if (budget !== null) budget.take(end, where);
  const total = end - 4 * count;
  if (total > MAX_BYTES_TOTAL) throw fail(`${where}: raw BYTES data of ${total} bytes is over the ${MAX_BYTES_TOTAL} a tensor may hold`);
  return total;
}

/**
 * Copies elements `from` to `to` (element `from` starting at `p` of `raw`; `offsets[from]` its place in `bytes`)
 * next to each other into `bytes`, their ends into `offsets`: the loop of {@link decodeRawBytes}, a range at a
 * time. The position in `raw` after them; -1 - i when element i does not fit (its length truncated, or longer
 * than the bytes the elements may still hold together).
 */
function copyRawElements(raw: Uint8Array, source: Buffer, bytes: Buffer, offsets: Uint32Array, from: number, to: number, p: number): number {
  const end = raw.byteLength;
  const total = bytes.length;
  let q = offsets[from];
  for (let i = from; i < to; i++) {
    if (end - p < 4) return -1 - i;
    const len = lengthAt(raw, p);
    p += 4;
    if (len > total - q) return -1 - i;
    // Short elements byte by byte: a native copy per element costs more than it saves.
    if (len < 32) for (let k = 0; k < len; k++) bytes[q + k] = raw[p + k];
    else source.copy(bytes, q, p, p + len);
    p += len;
    q += len;
    offsets[i + 1] = q;
  }
  return p;
}

/**
 * True for an input whose raw BYTES data is large enough to be split in slices before the request is decoded
 * ({@link decodeRawBytesInSlices}); inputs that also have `data`, or whose raw data is not bytes, are left for
 * {@link decodeTensor} to refuse.
 *
 * @internal
 */
export function isLargeRawBytes(input: WireTensor): boolean {
  const raw = input.raw;
  return (
    raw instanceof Uint8Array &&
    raw.byteLength > RAW_BYTES_AT_ONCE_BYTES &&
    !(raw instanceof SplitRawBytes) &&
    (input.data === undefined || input.data === null) &&
    normalizeDatatype(input.datatype) === 'BYTES'
  );
}

/**
 * Splits large raw BYTES data (`count` elements, the product of `shape`) in slices, the event loop served between
 * them: the same checks, budget and errors as the decode at once, then the same bytes, holding their elements,
 * for {@link decodeRawData} to take as they are.
 *
 * @internal
 */
export async function decodeRawBytesInSlices(
  raw: Uint8Array,
  shape: readonly number[],
  count: number,
  where: string,
  fail: CodecErrorFactory,
  budget: TensorBudget,
): Promise<Uint8Array> {
  const total = checkRawBytesSize(raw, shape, count, where, fail, budget);
  const splitter = new RawBytesSplitter(raw, count, Buffer.allocUnsafe(total), new Uint32Array(count + 1), shape, where, fail);
  await runInSlices(splitter);
  const split = new SplitRawBytes(raw.buffer as ArrayBuffer, raw.byteOffset, raw.byteLength);
  split.strings = splitter.result;
  return split;
}

/** {@link copyRawElements} in slices; on an element that does not fit, the check of the rest in slices, then its error. */
class RawBytesSplitter implements SlicedWork {
  private readonly source: Buffer;
  private i = 0;
  private p = 0;
  private walk: RawBytesWalk | null = null;

  constructor(
    private readonly raw: Uint8Array,
    private readonly count: number,
    private readonly bytes: Buffer,
    private readonly offsets: Uint32Array,
    private readonly shape: readonly number[],
    private readonly where: string,
    private readonly fail: CodecErrorFactory,
  ) {
    this.source = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  }

  get result(): ByteStrings {
    return new ByteStrings(this.bytes, this.offsets);
  }

  step(deadline: number): boolean {
    const count = this.count;
    if (this.walk === null) {
      while (this.i < count) {
        const stop = Math.min(count, this.i + RAW_BYTES_SLICE_ELEMENTS);
        const p = copyRawElements(this.raw, this.source, this.bytes, this.offsets, this.i, stop, this.p);
        if (p < 0) {
          // Element i does not fit: the elements before it do, so the check goes on from there.
          const i = -1 - p;
          this.walk = new RawBytesWalk(this.raw, i, this.offsets[i] + 4 * i);
          break;
        }
        this.i = stop;
        this.p = p;
        if (performance.now() >= deadline) return false;
      }
      if (this.walk === null) {
        if (this.p !== this.raw.byteLength) throw checkRawBytes(this.raw, this.shape, count, this.where, this.fail, count, this.p);
        return true;
      }
    }
    const walk = this.walk;
    while (walk.i < count) {
      if (!walk.over(Math.min(count, walk.i + RAW_BYTES_SLICE_ELEMENTS))) break;
      if (walk.i < count && performance.now() >= deadline) return false;
    }
    throw walk.error(this.shape, count, this.where, this.fail);
  }
}

/** Steps over length-prefixed elements checking only that each fits in the data; where it is (element i at p) is kept. */
class RawBytesWalk {
  constructor(
    private readonly raw: Uint8Array,
    public i: number,
    public p: number,
  ) {}

  /** Steps over the elements up to `stop`; false at the first that does not fit, the walk left at it. */
  over(stop: number): boolean {
    const raw = this.raw;
    const end = raw.byteLength;
    let p = this.p;
    let i = this.i;
    for (; i < stop; i++) {
      if (end - p < 4 || lengthAt(raw, p) > end - p - 4) break;
      p += 4 + lengthAt(raw, p);
    }
    this.i = i;
    this.p = p;
    return i === stop;
  }

  /** What is wrong with data of `count` elements whose walk stopped here (at an element that does not fit, or at the end). */
  error(shape: readonly number[], count: number, where: string, fail: CodecErrorFactory): Error {
    const { raw, i, p } = this;
    const end = raw.byteLength;
    if (i < count) {
      if (p === end) return fail(`${where}: raw BYTES data holds ${i} elements, but shape ${formatShape(shape)} needs ${count}`);
      if (end - p < 4) return fail(`${where}: raw BYTES element ${i} has a truncated 4-byte length (${end - p} bytes left)`);
      return fail(`${where}: raw BYTES element ${i} declares ${lengthAt(raw, p)} bytes, but only ${end - p - 4} remain`);
    }
    return fail(`${where}: raw BYTES data has ${end - p} bytes left over after the ${count} elements shape ${formatShape(shape)} needs`);
  }
}

/**
 * The error of length-prefixed data that does not hold exactly `count` elements: which element, and why (the
 * elements before `from`, which start at `at`, known to fit).
 */
function checkRawBytes(
  raw: Uint8Array,
  shape: readonly number[],
  count: number,
  where: string,
  fail: CodecErrorFactory,
  from = 0,
  at = 0,
): Error {
  const walk = new RawBytesWalk(raw, from, at);
  walk.over(count);
  return walk.error(shape, count, where, fail);
}
