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

/** True for a non-empty array whose elements are all byte arrays (a BYTES container). */
function isByteArrayList(value: unknown): value is readonly Uint8Array[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (!isUint8Array(value[i])) return false;
  return true;
}

/** Packs BYTES elements into one blob and their end offsets: two transferable buffers instead of many clones. */
function packBytes(items: readonly Uint8Array[], transfer: ArrayBuffer[]): PackedBytes {
  const n = items.length;
  const ends = new Uint32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += items[i].byteLength;
    ends[i] = total;
  }
  const packedBytes = new Uint8Array(total);
  let p = 0;
  for (let i = 0; i < n; i++) {
    packedBytes.set(items[i], p);
    p += items[i].byteLength;
  }
  transfer.push(packedBytes.buffer as ArrayBuffer, ends.buffer as ArrayBuffer);
  return { packedBytesOfTensor: true, packedBytes, ends };
}

function isPackedBytes(value: unknown): value is PackedBytes {
  return typeof value === 'object' && value !== null && (value as PackedBytes).packedBytesOfTensor === true;
}

/** BYTES elements back as Buffers sharing the blob's memory. */
function unpackBytes(packed: PackedBytes): Buffer[] {
  const { packedBytes, ends } = packed;
  const out = new Array<Buffer>(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    out[i] = Buffer.from(packedBytes.buffer, packedBytes.byteOffset + start, ends[i] - start);
    start = ends[i];
  }
  return out;
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
 * - BYTES (an array of byte arrays) is packed into one blob;
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
  if (isByteArrayList(data)) return { data: packBytes(data, transfer), moved: false };
  return { data, moved: false };
}

/** Tensor data as it arrived from the other thread: packed BYTES become Buffers, the rest is used as is. @internal */
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
 * The buffers of BYTES elements in `tensors`: those must not be moved away (they are copied into a blob,
 * and the elements stay readable on this side).
 *
 * @internal
 */
export function pinnedBuffers(tensors: readonly { data: unknown }[]): Set<ArrayBufferLike> | null {
  let pinned: Set<ArrayBufferLike> | null = null;
  for (const t of tensors) {
    if (!isByteArrayList(t.data)) continue;
    for (const item of t.data) (pinned ??= new Set()).add(item.buffer);
  }
  return pinned;
}

/** True when `obj` has an own enumerable key (ctx.state worth sending). @internal */
export function hasOwnKeys(obj: Record<string, unknown>): boolean {
  for (const key in obj) if (Object.prototype.hasOwnProperty.call(obj, key)) return true;
  return false;
}
