import { ByteStrings } from '../model/byte-strings';
import type { Datatype, TensorData } from '../model/datatype';
import { elementSize } from './datatype.util';
import { formatShape } from './element-count.util';
import { bf16BytesToFloat32Array, halfBytesToFloat32Array } from './fp16.util';
import type { TensorBudget } from './tensor-budget';
import { MAX_BYTES_TOTAL } from './value-converter.util';
import { copyInSlices } from './time-slice.util';
import type { WireInferenceRequest } from './wire-tensor.interface';
import type { CodecErrorFactory } from '../errors';

/** Raw data up to this size is copied to aligned memory at once when decoded; larger data in slices, first. */
const ALIGN_AT_ONCE_BYTES = 4 * 1024 * 1024;
const ALIGN_SLICE_BYTES = 1024 * 1024;

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
  const copy = new Uint8Array(raw.byteLength);
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
 * Length-prefixed elements as one {@link ByteStrings}. The sizes are checked before anything is allocated: at
 * least 4 bytes per element (so a shape of 2^32 elements over a few bytes is a 400, not an allocation), and the
 * budget takes the size of `raw` (the bytes plus 4 per element). One pass then checks each length and copies the
 * element next to the previous one; on any inconsistency {@link checkRawBytes} says exactly what is wrong.
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
  if (4 * count > end) throw checkRawBytes(raw, shape, count, where, fail);
  if (budget !== null) budget.take(end, where);
  const total = end - 4 * count;
  if (total > MAX_BYTES_TOTAL) throw fail(`${where}: raw BYTES data of ${total} bytes is over the ${MAX_BYTES_TOTAL} a tensor may hold`);
  const offsets = new Uint32Array(count + 1);
  const bytes = Buffer.allocUnsafe(total);
  const source = Buffer.from(raw.buffer, raw.byteOffset, end);
  let p = 0;
  let q = 0;
  for (let i = 0; i < count; i++) {
    if (end - p < 4) throw checkRawBytes(raw, shape, count, where, fail);
    const len = lengthAt(raw, p);
    p += 4;
    if (len > total - q) throw checkRawBytes(raw, shape, count, where, fail);
    // Short elements byte by byte: a native copy per element costs more than it saves.
    if (len < 32) for (let k = 0; k < len; k++) bytes[q + k] = raw[p + k];
    else source.copy(bytes, q, p, p + len);
    p += len;
    q += len;
    offsets[i + 1] = q;
  }
  if (p !== end) throw checkRawBytes(raw, shape, count, where, fail);
  return new ByteStrings(bytes, offsets);
}

/** The error of length-prefixed data that does not hold exactly `count` elements: which element, and why. */
function checkRawBytes(
  raw: Uint8Array,
  shape: readonly number[],
  count: number,
  where: string,
  fail: CodecErrorFactory,
): Error {
  const end = raw.byteLength;
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (end - p < 4) {
      return fail(
        p === end
          ? `${where}: raw BYTES data holds ${i} elements, but shape ${formatShape(shape)} needs ${count}`
          : `${where}: raw BYTES element ${i} has a truncated 4-byte length (${end - p} bytes left)`,
      );
    }
    const len = lengthAt(raw, p);
    p += 4;
    if (len > end - p) return fail(`${where}: raw BYTES element ${i} declares ${len} bytes, but only ${end - p} remain`);
    p += len;
  }
  return fail(`${where}: raw BYTES data has ${end - p} bytes left over after the ${count} elements shape ${formatShape(shape)} needs`);
}
