import { Buffer } from 'node:buffer';
import { elementSize } from '../../../codecs';
import type { TensorBudget } from '../../../codecs/tensor-budget';
import { ByteStrings } from '../../../model/byte-strings';
import type { Datatype } from '../../../model/datatype';
import { ProtoReader, WT_BYTES, WT_FIXED32, WT_FIXED64, WT_VARINT } from './proto-wire.util';
import { copySliced, COPY_CHUNK, type SlicedWork, type WorkSlicer } from './work-slicer.util';
import { invalidRequest } from '../../../errors';

/** InferTensorContents field numbers, by name. */
const FIELD_NAMES = [
  '',
  'bool_contents',
  'int_contents',
  'int64_contents',
  'uint_contents',
  'uint64_contents',
  'fp32_contents',
  'fp64_contents',
  'bytes_contents',
] as const;

const BOOL = 1;
const INT = 2;
const INT64 = 3;
const UINT = 4;
const UINT64 = 5;
const FP32 = 6;
const FP64 = 7;
const BYTES = 8;

/** The field of ModelInferInputTensor that holds its contents. */
const INPUT_CONTENTS = 5;

/** The contents field each datatype's values travel in (0: raw only). */
const FIELD_OF: Readonly<Record<Datatype, number>> = {
  BOOL,
  INT8: INT,
  INT16: INT,
  INT32: INT,
  INT64,
  UINT8: UINT,
  UINT16: UINT,
  UINT32: UINT,
  UINT64,
  FP32,
  FP64,
  BYTES,
  FP16: 0,
  BF16: 0,
};

/** The scalar wire type of each field when not packed. */
const SCALAR_WT = [-1, WT_VARINT, WT_VARINT, WT_VARINT, WT_VARINT, WT_VARINT, WT_FIXED32, WT_FIXED64, WT_BYTES];

/** Bytes of a packed run scanned or copied between two slice checks; a unit of work is about 16 bytes. */
const CHUNK = 1 << 16;
const CHUNK_UNITS = CHUNK >> 4;
/** Elements stored between two slice checks. */
const ELEMENTS_PER_STEP = 4096;
/** Shorter elements are copied byte by byte (cheaper than a native call each). */
const SHORT_COPY = 64;

/** What pass 1 learnt of one input's contents. */
interface ContentsScan {
  /** Elements per contents field. */
  counts: number[];
  /** Runs (packed runs or single values) of fp32_contents and fp64_contents (one field may hold values). */
  floatRuns: number;
  /** Where the first of those runs starts. */
  floatStart: number;
  /** Bytes of all bytes_contents elements together. */
  bytes: number;
}

/**
 * The values of one input's `contents` (every InferTensorContents message of the input whose bytes lie at
 * `start .. end` of the reader's buffer) in the container the codecs take for `dt`: Uint8Array 0/1 for BOOL;
 * the datatype's own array for INT8..INT32 and UINT8..UINT32 (when a value does not fit, the 32-bit array,
 * whose conversion names it); BigInt64Array / BigUint64Array for the 64-bit integers (exact, no number on the
 * way); Float32Array / Float64Array (a view of the message when it is one aligned run); one {@link ByteStrings}
 * for BYTES. Packed and unpacked encodings are both read.
 *
 * Two passes, neither keeping anything per element: the first counts the elements of each field, so the
 * container's size is taken from `budget` (RESOURCE_EXHAUSTED naming `maxTensorBytes`) before it is
 * allocated; the second fills it. Both yield to the event loop on large contents. Returns `undefined` when
 * the contents hold no value at all.
 *
 * A client mistake (values in another field than the datatype's, several fields, FP16 / BF16 as contents)
 * is an INVALID_ARGUMENT that says what to send instead.
 *
 * @internal
 */
export function* decodeContents(
  r: ProtoReader,
  start: number,
  end: number,
  dt: Datatype,
  where: string,
  budget: TensorBudget,
  s: WorkSlicer,
): SlicedWork<unknown> {
  const scan = yield* scanContents(r, start, end, s);
  let found = 0;
  for (let f = BOOL; f <= BYTES; f++) {
    if (scan.counts[f] === 0) continue;
    if (found !== 0) {
      throw invalidRequest(`${where}: contents has values in both ${FIELD_NAMES[found]} and ${FIELD_NAMES[f]}; send them in one field`);
    }
    found = f;
  }
  if (found === 0) return undefined;
  const expected = FIELD_OF[dt];
  if (expected === 0) {
    throw invalidRequest(
      `${where}: ${dt} data travels only in raw_input_contents (protobuf has no 16-bit float type); send the tensor's bytes there`,
    );
  }
  if (found !== expected) {
    throw invalidRequest(`${where}: ${dt} values go in contents.${FIELD_NAMES[expected]}, but the request sent contents.${FIELD_NAMES[found]}`);
  }
  const count = scan.counts[found];
  if (found === BYTES) {
    budget.take(scan.bytes + 4 * (count + 1), where);
    return yield* fillBytes(r, start, end, count, scan.bytes, s);
  }
  if (found === FP32 || found === FP64) {
    const size = found === FP32 ? 4 : 8;
    budget.take(count * size, where);
    const buf = r.buf;
    const Ctor = found === FP32 ? Float32Array : Float64Array;
    if (scan.floatRuns === 1 && (buf.byteOffset + scan.floatStart) % size === 0) {
      return new Ctor(buf.buffer as ArrayBuffer, buf.byteOffset + scan.floatStart, count);
    }
    const out = new Ctor(count);
    yield* copyRuns(r, start, end, found, new Uint8Array(out.buffer), s);
    return out;
  }
  if (found === INT64 || found === UINT64) {
    budget.take(count * 8, where);
    const out = found === INT64 ? new BigInt64Array(count) : new BigUint64Array(count);
    yield* fillVarints(r, start, end, found, new Uint32Array(out.buffer), WORDS, 0, 0, s);
    return out;
  }
  if (found === BOOL) {
    budget.take(count, where);
    const out = new Uint8Array(count);
    yield* fillVarints(r, start, end, found, out, TRUTH, 0, 0, s);
    return out;
  }
  const narrow = NARROW[dt];
  if (narrow !== undefined) {
    budget.take(count * elementSize(dt), where);
    const out = new narrow.Ctor(count);
    if (yield* fillVarints(r, start, end, found, out, narrow.signed ? SIGNED : UNSIGNED, narrow.min, narrow.max, s)) return out;
    // A value out of range: hand over the 32-bit values, whose conversion names the value and its index.
  }
  budget.take(count * 4, where);
  const out = found === INT ? new Int32Array(count) : new Uint32Array(count);
  yield* fillVarints(r, start, end, found, out, found === INT ? SIGNED : UNSIGNED, -Infinity, Infinity, s);
  return out;
}

/** An empty container of the datatype, for contents that hold nothing. @internal */
export function emptyContainer(dt: Datatype): unknown {
  switch (dt) {
    case 'BOOL':
    case 'UINT8':
      return new Uint8Array(0);
    case 'INT8':
      return new Int8Array(0);
    case 'INT16':
      return new Int16Array(0);
    case 'UINT16':
      return new Uint16Array(0);
    case 'INT32':
      return new Int32Array(0);
    case 'UINT32':
      return new Uint32Array(0);
    case 'INT64':
      return new BigInt64Array(0);
    case 'UINT64':
      return new BigUint64Array(0);
    case 'FP64':
      return new Float64Array(0);
    case 'BYTES':
      return new ByteStrings(Buffer.alloc(0), new Uint32Array(1));
    default:
      return new Float32Array(0);
  }
}

/** The contents field a datatype's values go in, for messages. @internal */
export function contentsFieldName(dt: Datatype): string {
  const f = FIELD_OF[dt];
  return f === 0 ? 'raw_input_contents' : `contents.${FIELD_NAMES[f]}`;
}

/** The narrow integer datatypes, decoded straight into their own arrays (range-checked). */
const NARROW: Partial<Record<Datatype, { Ctor: new (n: number) => Int8Array | Int16Array | Uint8Array | Uint16Array; signed: boolean; min: number; max: number }>> = {
  INT8: { Ctor: Int8Array, signed: true, min: -128, max: 127 },
  INT16: { Ctor: Int16Array, signed: true, min: -32768, max: 32767 },
  UINT8: { Ctor: Uint8Array, signed: false, min: 0, max: 255 },
  UINT16: { Ctor: Uint16Array, signed: false, min: 0, max: 65535 },
};

/** {@link nextContents}: no contents message is left. */
const NO_MORE = -1;
/** {@link nextContents}: the slice is over; yield, then call again. */
const SLICE_OVER = -2;

/**
 * Moves the reader to the next InferTensorContents message of the input that ends at `end` (start with the reader
 * at the input's first byte) and returns where that message ends, the reader at its first byte; or
 * {@link NO_MORE}, or {@link SLICE_OVER} (call again after yielding). The input's other fields were checked
 * when it was read, so they are skipped here without checks.
 */
function nextContents(r: ProtoReader, end: number, s: WorkSlicer): number {
  while (r.pos < end) {
    if (s.due()) return SLICE_OVER;
    const tag = r.tag();
    if (tag >>> 3 === INPUT_CONTENTS && (tag & 7) === WT_BYTES) return r.delimited();
    r.skip(tag & 7);
  }
  return NO_MORE;
}

/** Pass 1: elements per field, runs, and the bytes of bytes_contents; nothing kept per element. */
function* scanContents(r: ProtoReader, start: number, end: number, s: WorkSlicer): SlicedWork<ContentsScan> {
  const scan: ContentsScan = { counts: [0, 0, 0, 0, 0, 0, 0, 0, 0], floatRuns: 0, floatStart: 0, bytes: 0 };
  const buf = r.buf;
  r.pos = start;
  for (;;) {
    const cEnd = nextContents(r, end, s);
    if (cEnd === NO_MORE) break;
    if (cEnd === SLICE_OVER) {
      yield;
      continue;
    }
    while (r.pos < cEnd) {
      if (s.due()) yield;
      const tag = r.tag();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field < BOOL || field > BYTES) {
        r.skip(wt);
        continue;
      }
      if (wt === WT_BYTES) {
        const stop = r.delimited();
        const len = stop - r.pos;
        if (field === BYTES) {
          scan.counts[BYTES]++;
          scan.bytes += len;
        } else if (field === FP32 || field === FP64) {
          const size = field === FP32 ? 4 : 8;
          if (len % size !== 0) throw r.fail(`packed ${FIELD_NAMES[field]} holds ${len} bytes, not a multiple of ${size}`);
          if (scan.floatRuns++ === 0) scan.floatStart = r.pos;
          scan.counts[field] += len / size;
        } else {
          if (len > 0 && buf[stop - 1] >= 0x80) throw r.fail(`packed ${FIELD_NAMES[field]} ends inside a varint`);
          for (let p = r.pos; p < stop; ) {
            const chunkEnd = Math.min(stop, p + CHUNK);
            let n = 0;
            for (; p < chunkEnd; p++) if (buf[p] < 0x80) n++;
            scan.counts[field] += n;
            if (s.due(CHUNK_UNITS)) yield;
          }
        }
        r.pos = stop;
      } else if (wt === SCALAR_WT[field]) {
        if ((field === FP32 || field === FP64) && scan.floatRuns++ === 0) scan.floatStart = r.pos;
        scan.counts[field]++;
        r.skip(wt);
      } else {
        throw r.wrongType(field, wt);
      }
    }
    if (r.pos !== cEnd) throw r.fail('a contents message runs past its end');
  }
  return scan;
}

/** Pass 2 for FP32 / FP64: copies every run of `field` into `out`, in order. */
function* copyRuns(r: ProtoReader, start: number, end: number, field: number, out: Uint8Array, s: WorkSlicer): SlicedWork<void> {
  const buf = r.buf;
  const size = field === FP32 ? 4 : 8;
  let at = 0;
  r.pos = start;
  for (;;) {
    const cEnd = nextContents(r, end, s);
    if (cEnd === NO_MORE) break;
    if (cEnd === SLICE_OVER) {
      yield;
      continue;
    }
    while (r.pos < cEnd) {
      if (s.due()) yield;
      const tag = r.tag();
      const wt = tag & 7;
      if (tag >>> 3 !== field) {
        r.skip(wt);
        continue;
      }
      const stop = wt === WT_BYTES ? r.delimited() : r.pos + size;
      if (stop - r.pos <= 8) {
        for (let p = r.pos; p < stop; p++) out[at++] = buf[p];
        r.pos = stop;
        continue;
      }
      if (stop - r.pos <= COPY_CHUNK) out.set(buf.subarray(r.pos, stop), at);
      else yield* copySliced(buf.subarray(r.pos, stop), out, at, s);
      at += stop - r.pos;
      r.pos = stop;
    }
  }
}

/** Pass 2 for BYTES: every element's bytes copied into one buffer, with offsets; no object per element. */
function* fillBytes(r: ProtoReader, start: number, end: number, count: number, total: number, s: WorkSlicer): SlicedWork<ByteStrings> {
  const src = r.buf;
  const bytes = Buffer.allocUnsafe(total);
  const offsets = new Uint32Array(count + 1);
  let at = 0;
  let j = 0;
  r.pos = start;
  for (;;) {
    const cEnd = nextContents(r, end, s);
    if (cEnd === NO_MORE) break;
    if (cEnd === SLICE_OVER) {
      yield;
      continue;
    }
    while (r.pos < cEnd) {
      if (s.due()) yield;
      const tag = r.tag();
      if (tag >>> 3 !== BYTES) {
        r.skip(tag & 7);
        continue;
      }
      const stop = r.delimited();
      let p = r.pos;
      if (stop - p < SHORT_COPY) {
        while (p < stop) bytes[at++] = src[p++];
      } else {
        yield* copySliced(src.subarray(p, stop), bytes, at, s);
        at += stop - p;
        s.due((stop - p) >> 6);
      }
      offsets[++j] = at;
      r.pos = stop;
    }
  }
  return new ByteStrings(bytes, offsets);
}

/** How varints are stored. */
const TRUTH = 0;
const SIGNED = 1;
const UNSIGNED = 2;
const WORDS = 3;

type VarintTarget = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

/**
 * Pass 2 for the varint fields: every value of `field` stored in `out` (TRUTH: 0/1; SIGNED / UNSIGNED: the low
 * 32 bits, as int32 / uint32, which must lie in `min .. max`; WORDS: both 32-bit halves, two words per value).
 * Returns false, having stopped, when a value is out of range.
 */
function* fillVarints(
  r: ProtoReader,
  start: number,
  end: number,
  field: number,
  out: VarintTarget,
  mode: number,
  min: number,
  max: number,
  s: WorkSlicer,
): SlicedWork<boolean> {
  let j = 0;
  r.pos = start;
  for (;;) {
    const cEnd = nextContents(r, end, s);
    if (cEnd === NO_MORE) break;
    if (cEnd === SLICE_OVER) {
      yield;
      continue;
    }
    while (r.pos < cEnd) {
      if (s.due()) yield;
      const tag = r.tag();
      const wt = tag & 7;
      if (tag >>> 3 !== field) {
        r.skip(wt);
        continue;
      }
      if (wt !== WT_BYTES) {
        j = storeVarints(r, cEnd, out, j, j + (mode === WORDS ? 2 : 1), mode, min, max);
        if (j < 0) return false;
        continue;
      }
      const stop = r.delimited();
      while (r.pos < stop) {
        j = storeVarints(r, stop, out, j, j + ELEMENTS_PER_STEP, mode, min, max);
        if (j < 0) return false;
        if (s.due(ELEMENTS_PER_STEP)) yield;
      }
    }
  }
  return true;
}

/**
 * Reads varints from `r.pos` until `end` or until `out` is filled up to `stopAt`, storing them from index `j`;
 * returns the next index, or -1 when a value lies outside `min .. max`. One function per mode keeps each
 * loop's stores to one kind of array.
 */
function storeVarints(r: ProtoReader, end: number, out: VarintTarget, j: number, stopAt: number, mode: number, min: number, max: number): number {
  switch (mode) {
    case TRUTH:
      return storeTruths(r, end, out as Uint8Array, j, stopAt);
    case WORDS:
      return storeWords(r, end, out as Uint32Array, j, stopAt);
    case SIGNED:
      return out instanceof Int32Array ? storeInt32(r, end, out, j, stopAt) : storeSmall(r, end, out, j, stopAt, true, min, max);
    default:
      return out instanceof Uint32Array ? storeUint32(r, end, out, j, stopAt) : storeSmall(r, end, out, j, stopAt, false, min, max);
  }
}

function storeTruths(r: ProtoReader, end: number, out: Uint8Array, j: number, stopAt: number): number {
  const buf = r.buf;
  while (r.pos < end && j < stopAt) {
    const b = buf[r.pos];
    if (b < 0x80) {
      r.pos++;
      out[j++] = b === 0 ? 0 : 1;
    } else {
      r.varint();
      out[j++] = r.lo !== 0 || r.hi !== 0 ? 1 : 0;
    }
  }
  return j;
}

function storeWords(r: ProtoReader, end: number, out: Uint32Array, j: number, stopAt: number): number {
  const buf = r.buf;
  while (r.pos < end && j < stopAt) {
    const b = buf[r.pos];
    if (b < 0x80) {
      r.pos++;
      out[j] = b;
      out[j + 1] = 0;
    } else {
      r.varint();
      out[j] = r.lo;
      out[j + 1] = r.hi;
    }
    j += 2;
  }
  return j;
}

function storeInt32(r: ProtoReader, end: number, out: Int32Array, j: number, stopAt: number): number {
  const buf = r.buf;
  while (r.pos < end && j < stopAt) {
    const b = buf[r.pos];
    if (b < 0x80) {
      r.pos++;
      out[j++] = b;
    } else {
      r.varint();
      out[j++] = r.lo | 0;
    }
  }
  return j;
}

function storeUint32(r: ProtoReader, end: number, out: Uint32Array, j: number, stopAt: number): number {
  const buf = r.buf;
  while (r.pos < end && j < stopAt) {
    const b = buf[r.pos];
    if (b < 0x80) {
      r.pos++;
      out[j++] = b;
    } else {
      r.varint();
      out[j++] = r.lo;
    }
  }
  return j;
}

function storeSmall(r: ProtoReader, end: number, out: VarintTarget, j: number, stopAt: number, signed: boolean, min: number, max: number): number {
  while (r.pos < end && j < stopAt) {
    r.varint();
    const v = signed ? r.lo | 0 : r.lo;
    if (v < min || v > max) return -1;
    out[j++] = v;
  }
  return j;
}
