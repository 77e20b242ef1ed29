import { Buffer } from 'node:buffer';
import { ByteStrings } from '../model/byte-strings';
import type { PackedBytes, WireWorkerTensor } from './worker-messages.interface';

/** A typed array (not a DataView). */
type View = ArrayBufferView & { readonly length: number; slice(): View };

/** A typed array over a plain (transferable) ArrayBuffer. @internal */
export type OwnedView = ArrayBufferView & { readonly buffer: ArrayBuffer };

// Values that crossed threads belong to the main realm of Node, not to the realm of the code that receives
// them when that code runs in a vm context (jest): every check here works across realms.

/** True for a typed array (any class, Buffer included), not a DataView. @internal */
export function isTypedArray(value: unknown): value is View {
  return ArrayBuffer.isView(value) && (value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] !== undefined;
}

function isUint8Array(value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value) && (value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'Uint8Array';
}

/** True for a plain (transferable) ArrayBuffer, not a SharedArrayBuffer. */
function isPlainArrayBuffer(value: unknown): value is ArrayBuffer {
  return Object.prototype.toString.call(value) === '[object ArrayBuffer]';
}

/** True for a non-empty array whose elements are all byte arrays (BYTES as model code may return them). */
function isByteArrayList(value: unknown): value is readonly Uint8Array[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (!isUint8Array(value[i])) return false;
  return true;
}

/** True for a {@link ByteStrings}, also one made by another copy of this library (model code in a worker). */
function isByteStrings(value: unknown): value is ByteStrings {
  if (value instanceof ByteStrings) return true;
  if (typeof value !== 'object' || value === null) return false;
  const { bytes, offsets } = value as { bytes?: unknown; offsets?: unknown };
  return isUint8Array(bytes) && ArrayBuffer.isView(offsets) && (offsets as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'Uint32Array';
}

/**
 * A BYTES container made ready for `postMessage`: its bytes and offsets buffers move as they are when both may
 * (`movable`); otherwise its elements' bytes and offsets are copied (one copy each, not element by element) and
 * the copies move.
 */
function packBytes(data: ByteStrings, transfer: ArrayBuffer[], movable: (view: OwnedView) => boolean): PackedBytes {
  const { bytes, offsets } = data;
  if (isPlainArrayBuffer(bytes.buffer) && isPlainArrayBuffer(offsets.buffer) && movable(bytes as OwnedView) && movable(offsets as OwnedView)) {
    addOnce(transfer, bytes.buffer);
    addOnce(transfer, offsets.buffer);
    return { packedBytesOfTensor: true, bytes, offsets };
  }
  const n = offsets.length - 1;
  const start = offsets[0];
  const copy = new Uint8Array(offsets[n] - start);
  copy.set(bytes.subarray(start, offsets[n]));
  const ends = new Uint32Array(n + 1);
  if (start === 0) ends.set(offsets);
  else for (let i = 0; i <= n; i++) ends[i] = offsets[i] - start;
  transfer.push(copy.buffer, ends.buffer);
  return { packedBytesOfTensor: true, bytes: copy, offsets: ends };
}

function isPackedBytes(value: unknown): value is PackedBytes {
  return typeof value === 'object' && value !== null && (value as PackedBytes).packedBytesOfTensor === true;
}

/** BYTES as they arrived: a {@link ByteStrings} over the transferred buffers. */
function unpackBytes(packed: PackedBytes): ByteStrings {
  const { bytes, offsets } = packed;
  return new ByteStrings(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), offsets);
}

/** Adds `buffer` to a transfer list unless it is there already. @internal */
export function addOnce(transfer: ArrayBuffer[], buffer: ArrayBuffer): void {
  if (!transfer.includes(buffer)) transfer.push(buffer);
}

/**
 * Tensor data made ready for `postMessage`, its buffers added to `transfer`:
 * - a typed array whose buffer may move (`movable(view)`) is sent as is and its whole buffer transferred
 *   (views of one buffer keep sharing it on the other side): no copy. Returns `moved: true`;
 * - a typed array whose buffer must stay is copied (only its own bytes) and the copy transferred;
 * - a shared buffer is sent as is (both threads see it);
 * - BYTES (a {@link ByteStrings}, or an array of byte arrays model code returned) travel as their bytes and
 *   offsets buffers, moved when `movable` allows both, else copied once (never `moved`: they stay readable here);
 * - anything else (plain arrays, scalars) goes by structured clone.
 *
 * @internal
 */
export function prepareData(data: unknown, transfer: ArrayBuffer[], movable: (view: OwnedView) => boolean): { data: unknown; moved: boolean } {
  if (isTypedArray(data)) {
    if (!isPlainArrayBuffer(data.buffer)) return { data, moved: false }; // SharedArrayBuffer: shared, not copied
    if (movable(data as OwnedView)) {
      addOnce(transfer, data.buffer as ArrayBuffer);
      return { data, moved: true };
    }
    const copy = data.slice();
    transfer.push(copy.buffer as ArrayBuffer);
    return { data: copy, moved: false };
  }
  if (isByteStrings(data)) return { data: packBytes(data, transfer, movable), moved: false };
  if (isByteArrayList(data)) return { data: packBytes(ByteStrings.from(data), transfer, movable), moved: false };
  return { data, moved: false };
}

/** Tensor data as it arrived from the other thread: packed BYTES become a ByteStrings, the rest is used as is. @internal */
export function restoreData(data: unknown): unknown {
  return isPackedBytes(data) ? unpackBytes(data) : data;
}

/** Copies a tensor's fields into a message tensor with `data` prepared for transfer. @internal */
export function toWireTensor(t: WireWorkerTensor, data: unknown): WireWorkerTensor {
  const out: WireWorkerTensor = { name: t.name, data };
  if (t.datatype !== undefined) out.datatype = t.datatype;
  if (t.shape !== undefined) out.shape = t.shape;
  if (t.parameters !== undefined) out.parameters = t.parameters;
  return out;
}

/**
 * The buffers of BYTES tensors in `tensors`: those must not be moved away (the tensors stay readable on this side,
 * and BYTES are copied to the other), nor may numeric tensors sharing them move.
 *
 * @internal
 */
export function pinnedBuffers(tensors: readonly { data: unknown }[]): Set<ArrayBufferLike> | null {
  let pinned: Set<ArrayBufferLike> | null = null;
  for (const t of tensors) {
    const data = t.data;
    if (isByteStrings(data)) {
      pinned ??= new Set();
      pinned.add(data.bytes.buffer);
      pinned.add(data.offsets.buffer);
    } else if (isByteArrayList(data)) {
      for (const item of data) (pinned ??= new Set()).add(item.buffer);
    }
  }
  return pinned;
}

/** True when `obj` has an own enumerable key (ctx.state worth sending). @internal */
export function hasOwnKeys(obj: Record<string, unknown>): boolean {
  for (const key in obj) if (Object.prototype.hasOwnProperty.call(obj, key)) return true;
  return false;
}
