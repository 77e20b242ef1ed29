import { Buffer } from 'node:buffer';
import { stringifyJson } from '../../../codecs';
import type { Parameters } from '../../../model/tensor.interface';
import {
  int64ToNumber,
  ProtoReader,
  ProtoWriter,
  uint64ToNumber,
  varint32Size,
  varint64Size,
  WT_BYTES,
  WT_FIXED64,
  WT_VARINT,
} from './proto-wire.util';
import type { SlicedWork, WorkSlicer } from './work-slicer.util';

// InferParameter's oneof `parameter_choice`.
const BOOL_PARAM = 1;
const INT64_PARAM = 2;
const STRING_PARAM = 3;
const DOUBLE_PARAM = 4;
const UINT64_PARAM = 5;

const TWO_32 = 4294967296;
const TWO_32_BIG = 4294967296n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
const F64 = new Float64Array(1);
const F64_WORDS = new Uint32Array(F64.buffer);
/** Marks "the value is the last string_param read", which is decoded once at the end. */
const STRING_VALUE = Symbol('string_param');

/**
 * Reads one `map<string, InferParameter>` entry (the reader is inside the entry's bytes) into `into`.
 * int64 / uint64 values are numbers when exact (|v| < 2^53), else bigints, as the lossless JSON parser gives them
 * on REST; an entry whose value sets no kind is left out. The key and a string value are read once, whatever
 * number of times the entry repeats them; `__proto__` is kept as an ordinary key. Returns true when the entry
 * added a key `into` did not have (the caller counts them against `maxParameters`).
 *
 * @internal
 */
export function* readParameterEntry(r: ProtoReader, end: number, into: Parameters, s: WorkSlicer): SlicedWork<boolean> {
  let keyStart = -1;
  let keyEnd = -1;
  let value: unknown = undefined;
  while (r.pos < end) {
    if (s.due()) yield;
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === WT_BYTES) {
      keyEnd = r.delimited();
      keyStart = r.pos;
      r.pos = keyEnd;
    } else if (field === 2 && wt === WT_BYTES) {
      value = yield* readParameterValue(r, r.delimited(), s);
    } else if (field === 1 || field === 2) {
      throw r.wrongType(field, wt);
    } else {
      r.skip(wt);
    }
  }
  if (r.pos !== end) throw r.fail('a parameters entry runs past its end');
  if (value === undefined) return false;
  const key = keyStart < keyEnd ? r.buf.toString('utf8', keyStart, keyEnd) : '';
  const added = !Object.prototype.hasOwnProperty.call(into, key);
  if (key === '__proto__') Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
  else into[key] = value;
  return added;
}

function* readParameterValue(r: ProtoReader, end: number, s: WorkSlicer): SlicedWork<unknown> {
  let value: unknown = undefined;
  let textStart = -1;
  let textEnd = -1;
  while (r.pos < end) {
    if (s.due()) yield;
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case BOOL_PARAM:
        if (wt !== WT_VARINT) throw r.wrongType(field, wt);
        r.varint();
        value = r.lo !== 0 || r.hi !== 0;
        break;
      case INT64_PARAM:
        if (wt !== WT_VARINT) throw r.wrongType(field, wt);
        r.varint();
        value = exactInt(r.lo, r.hi, true);
        break;
      case STRING_PARAM:
        if (wt !== WT_BYTES) throw r.wrongType(field, wt);
        textEnd = r.delimited();
        textStart = r.pos;
        r.pos = textEnd;
        value = STRING_VALUE;
        break;
      case DOUBLE_PARAM:
        if (wt !== WT_FIXED64) throw r.wrongType(field, wt);
        r.fixed64();
        F64_WORDS[0] = r.lo;
        F64_WORDS[1] = r.hi;
        value = F64[0];
        break;
      case UINT64_PARAM:
        if (wt !== WT_VARINT) throw r.wrongType(field, wt);
        r.varint();
        value = exactInt(r.lo, r.hi, false);
        break;
      default:
        r.skip(wt);
    }
  }
  if (r.pos !== end) throw r.fail('a parameter value runs past its end');
  if (value === STRING_VALUE) return textStart < textEnd ? r.buf.toString('utf8', textStart, textEnd) : '';
  return value;
}

/** A 64-bit integer as a number when exact, else a bigint. */
function exactInt(lo: number, hi: number, signed: boolean): number | bigint {
  if (signed && hi >= 0x80000000) {
    const n = int64ToNumber(lo, hi);
    return Number.isSafeInteger(n) ? n : BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }
  if (hi < 0x200000) return uint64ToNumber(lo, hi);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** One parameter value, in the wire form it will take. */
interface EncodedValue {
  kind: number;
  lo: number;
  hi: number;
  text: string;
  textLength: number;
  size: number;
}

/**
 * Encodes `parameters` as repeated `map<string, InferParameter>` entries of field `field`: booleans as bool_param,
 * strings as string_param, integers (numbers up to 2^53, bigints in int64 range) as int64_param, bigints above
 * int64 as uint64_param, other numbers as double_param, anything else (objects, arrays, null) as JSON text in
 * string_param. Returns `null` when there is nothing to encode.
 *
 * @internal
 */
export function encodeParameterEntries(parameters: Parameters | undefined, field: number): Buffer | null {
  if (parameters === undefined) return null;
  const keys = Object.keys(parameters);
  let count = 0;
  const encoded: { key: string; keyLength: number; value: EncodedValue; entrySize: number }[] = [];
  let total = 0;
  for (const key of keys) {
    const raw = parameters[key];
    if (raw === undefined) continue;
    const value = encodeValue(raw);
    const keyLength = Buffer.byteLength(key, 'utf8');
    const entrySize = 1 + varint32Size(keyLength) + keyLength + 1 + varint32Size(value.size) + value.size;
    total += 1 + varint32Size(entrySize) + entrySize;
    encoded.push({ key, keyLength, value, entrySize });
    count++;
  }
  if (count === 0) return null;
  const w = new ProtoWriter(total);
  for (const e of encoded) {
    w.tag(field, WT_BYTES);
    w.uint32(e.entrySize);
    w.stringField(1, e.key, e.keyLength);
    w.tag(2, WT_BYTES);
    w.uint32(e.value.size);
    writeValue(w, e.value);
  }
  return w.buf;
}

function encodeValue(v: unknown): EncodedValue {
  const out: EncodedValue = { kind: STRING_PARAM, lo: 0, hi: 0, text: '', textLength: 0, size: 0 };
  if (typeof v === 'boolean') {
    out.kind = BOOL_PARAM;
    out.lo = v ? 1 : 0;
    out.size = 2;
  } else if (typeof v === 'number' && Number.isSafeInteger(v)) {
    out.kind = INT64_PARAM;
    setInt64(out, v);
    out.size = 1 + varint64SizeOf(out);
  } else if (typeof v === 'number') {
    out.kind = DOUBLE_PARAM;
    F64[0] = v;
    out.lo = F64_WORDS[0];
    out.hi = F64_WORDS[1];
    out.size = 9;
  } else if (typeof v === 'bigint' && v >= INT64_MIN && v <= UINT64_MAX) {
    out.kind = v > 2n ** 63n - 1n ? UINT64_PARAM : INT64_PARAM;
    const u = BigInt.asUintN(64, v);
    out.lo = Number(u % TWO_32_BIG);
    out.hi = Number(u / TWO_32_BIG);
    out.size = 1 + varint64SizeOf(out);
  } else {
    out.text = typeof v === 'string' ? v : stringifyJson(v);
    out.textLength = Buffer.byteLength(out.text, 'utf8');
    out.size = 1 + varint32Size(out.textLength) + out.textLength;
  }
  return out;
}

function setInt64(out: EncodedValue, v: number): void {
  if (v >= 0) {
    out.lo = v % TWO_32;
    out.hi = Math.floor(v / TWO_32);
  } else {
    // Two's complement of |v| over 64 bits.
    const m = -v;
    const lo = m % TWO_32;
    const hi = Math.floor(m / TWO_32);
    out.lo = (~lo + 1) >>> 0;
    out.hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
}

function varint64SizeOf(v: EncodedValue): number {
  return varint64Size(v.lo, v.hi);
}

function writeValue(w: ProtoWriter, v: EncodedValue): void {
  switch (v.kind) {
    case BOOL_PARAM:
      w.tag(BOOL_PARAM, WT_VARINT);
      w.uint32(v.lo);
      return;
    case INT64_PARAM:
    case UINT64_PARAM:
      w.tag(v.kind, WT_VARINT);
      w.varint64(v.lo, v.hi);
      return;
    case DOUBLE_PARAM:
      w.tag(DOUBLE_PARAM, WT_FIXED64);
      w.buf.writeUInt32LE(v.lo, w.pos);
      w.buf.writeUInt32LE(v.hi, w.pos + 4);
      w.pos += 8;
      return;
    default:
      w.stringField(STRING_PARAM, v.text, v.textLength);
  }
}
