import { invalidRequest } from '../../../errors/errors';
import type { Datatype } from '../../../model/datatype';
import { ProtoReader, WT_BYTES, WT_FIXED32, WT_FIXED64, WT_VARINT } from './proto-wire.util';

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

/**
 * The values of one input's `contents` (one or more InferTensorContents messages, as `[start, end, ...]` ranges of
 * `buf`) in the container the codecs take for `dt`: Uint8Array 0/1 for BOOL, Int32Array / Uint32Array for the
 * small integers (the codecs check their range), BigInt64Array / BigUint64Array for the 64-bit integers (exact,
 * no number on the way), Float32Array / Float64Array (a view of the message when aligned), Buffer[] for BYTES.
 * Packed and unpacked encodings are both read. Returns `undefined` when the contents hold no value at all.
 *
 * A client mistake (values in another field than the datatype's, several fields, FP16 / BF16 as contents)
 * is an INVALID_ARGUMENT that says what to send instead.
 *
 * @internal
 */
export function decodeContents(r: ProtoReader, ranges: readonly number[], dt: Datatype, where: string): unknown {
  // Pass 1: where each field's bytes are, and how many elements each holds.
  const segments: number[][] = [[], [], [], [], [], [], [], [], []];
  for (let i = 0; i < ranges.length; i += 2) {
    r.pos = ranges[i];
    const end = ranges[i + 1];
    while (r.pos < end) {
      const tag = r.tag();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field < BOOL || field > BYTES) {
        r.skip(wt);
        continue;
      }
      if (wt === WT_BYTES) {
        const stop = r.delimited();
        segments[field].push(r.pos, stop);
        r.pos = stop;
      } else if (wt === SCALAR_WT[field]) {
        const start = r.pos;
        r.skip(wt);
        segments[field].push(start, r.pos);
      } else {
        throw r.wrongType(field, wt);
      }
    }
  }
  let found = 0;
  let count = 0;
  for (let f = BOOL; f <= BYTES; f++) {
    const n = countElements(r, segments[f], f);
    if (n === 0) continue;
    if (found !== 0) {
      throw invalidRequest(`${where}: contents has values in both ${FIELD_NAMES[found]} and ${FIELD_NAMES[f]}; send them in one field`);
    }
    found = f;
    count = n;
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
  return fill(r, segments[found], found, count);
}

/** An empty container of the datatype, for contents that hold nothing. @internal */
export function emptyContainer(dt: Datatype): unknown {
  switch (FIELD_OF[dt]) {
    case BOOL:
      return new Uint8Array(0);
    case INT:
      return new Int32Array(0);
    case UINT:
      return new Uint32Array(0);
    case INT64:
      return new BigInt64Array(0);
    case UINT64:
      return new BigUint64Array(0);
    case FP64:
      return new Float64Array(0);
    case BYTES:
      return [];
    default:
      return new Float32Array(0);
  }
}

/** The contents field a datatype's values go in, for messages. @internal */
export function contentsFieldName(dt: Datatype): string {
  const f = FIELD_OF[dt];
  return f === 0 ? 'raw_input_contents' : `contents.${FIELD_NAMES[f]}`;
}

function countElements(r: ProtoReader, seg: readonly number[], field: number): number {
  if (field === BYTES) return seg.length / 2;
  let n = 0;
  if (field === FP32 || field === FP64) {
    const size = field === FP32 ? 4 : 8;
    for (let i = 0; i < seg.length; i += 2) {
      const len = seg[i + 1] - seg[i];
      if (len % size !== 0) throw r.fail(`packed ${FIELD_NAMES[field]} holds ${len} bytes, not a multiple of ${size}`);
      n += len / size;
    }
    return n;
  }
  const buf = r.buf;
  for (let i = 0; i < seg.length; i += 2) {
    const end = seg[i + 1];
    for (let p = seg[i]; p < end; p++) if (buf[p] < 0x80) n++;
    if (end > seg[i] && buf[end - 1] >= 0x80) throw r.fail(`packed ${FIELD_NAMES[field]} ends inside a varint`);
  }
  return n;
}

function fill(r: ProtoReader, seg: readonly number[], field: number, count: number): unknown {
  const buf = r.buf;
  switch (field) {
    case FP32:
    case FP64: {
      const size = field === FP32 ? 4 : 8;
      const Ctor = field === FP32 ? Float32Array : Float64Array;
      if (seg.length === 2 && (buf.byteOffset + seg[0]) % size === 0) return new Ctor(buf.buffer as ArrayBuffer, buf.byteOffset + seg[0], count);
      const out = new Ctor(count);
      const bytes = new Uint8Array(out.buffer);
      let p = 0;
      for (let i = 0; i < seg.length; i += 2) {
        bytes.set(buf.subarray(seg[i], seg[i + 1]), p);
        p += seg[i + 1] - seg[i];
      }
      return out;
    }
    case BYTES: {
      const out = new Array<Buffer>(count);
      for (let i = 0, j = 0; i < seg.length; i += 2, j++) out[j] = buf.subarray(seg[i], seg[i + 1]);
      return out;
    }
    case INT64:
    case UINT64: {
      const out = field === INT64 ? new BigInt64Array(count) : new BigUint64Array(count);
      const words = new Uint32Array(out.buffer);
      let j = 0;
      for (let i = 0; i < seg.length; i += 2) {
        r.pos = seg[i];
        const end = seg[i + 1];
        while (r.pos < end) {
          r.varint();
          words[j++] = r.lo;
          words[j++] = r.hi;
        }
      }
      return out;
    }
    default: {
      const out = field === BOOL ? new Uint8Array(count) : field === INT ? new Int32Array(count) : new Uint32Array(count);
      let j = 0;
      for (let i = 0; i < seg.length; i += 2) {
        r.pos = seg[i];
        const end = seg[i + 1];
        while (r.pos < end) {
          r.varint();
          out[j++] = field === BOOL ? (r.lo !== 0 || r.hi !== 0 ? 1 : 0) : r.lo;
        }
      }
      return out;
    }
  }
}
