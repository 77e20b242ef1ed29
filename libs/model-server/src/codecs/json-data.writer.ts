import { Buffer } from 'node:buffer';
import { ByteStrings } from '../model/byte-strings';
import type { Tensor } from '../model/tensor.interface';
import { isTensorContainer } from './datatype.util';
import { formatFloat64, MAX_SHORTEST_BYTES, writeShortest } from './float-format.util';
import { roundToBf16, roundToHalf } from './fp16.util';
import { modelOutputError } from '../errors';

/** Integer typed arrays, written with the native `join`. */
type IntegerArray =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | BigUint64Array;

function notFinite(where: string): Error {
  return modelOutputError(`${where} holds NaN or Infinity, which JSON cannot carry; ask for it as binary data`);
}

/**
 * Checks that a tensor's data is in its typed container (BYTES: a `ByteStrings` or an array of Buffers), as
 * {@link writeJsonData} and {@link writeJsonElements} need it; a model error (500) otherwise.
 *
 * @internal
 */
export function checkJsonWritable(t: Tensor, where: string): void {
  const dt = t.datatype;
  const data: unknown = t.data;
  if (!isTensorContainer(data, dt)) {
    throw modelOutputError(`${where}: ${dt} data is not in its typed container; encode the output first`);
  }
}

/**
 * The JSON text of a tensor's flat data array, e.g. `[1,2.5,3]`. Floats are written in the shortest form
 * that reads back to the same value at the tensor's precision (an FP32 0.1 is `0.1`); 64-bit integers are
 * exact bare integers; BOOL is true/false; BYTES are JSON strings of the UTF-8 text (bytes that are not
 * UTF-8 become U+FFFD: ask for binary data to keep them). NaN and Infinity are a model error (500).
 *
 * @publicApi
 */
export function writeJsonData(t: Tensor, where: string): string {
  checkJsonWritable(t, where);
  return '[' + writeJsonElements(t, 0, t.data.length, where) + ']';
}

/**
 * Elements `start .. end - 1` of a tensor's data as JSON, separated by commas, without brackets (the pieces of
 * {@link writeJsonData}, for writing a large tensor a part at a time). The data must be writable
 * ({@link checkJsonWritable}).
 *
 * @internal
 */
export function writeJsonElements(t: Tensor, start: number, end: number, where: string): string {
  const data = t.data;
  switch (t.datatype) {
    case 'BOOL':
      return writeBool(data as Uint8Array, start, end);
    case 'FP32':
      return writeRounded(data as Float32Array, start, end, where, 0);
    case 'FP16':
      return writeRounded(data as Float32Array, start, end, where, 1);
    case 'BF16':
      return writeRounded(data as Float32Array, start, end, where, 2);
    case 'FP64':
      return writeFloat64(data as Float64Array, start, end, where);
    case 'BYTES':
      return writeBytes(data as ByteStrings, start, end);
    default: {
      const ints = data as IntegerArray;
      return (start === 0 && end === ints.length ? ints : ints.subarray(start, end)).join(',');
    }
  }
}

/** The most bytes {@link writeJsonElementsInto} writes for `count` elements. @internal */
export function jsonElementsRoom(count: number): number {
  return count * (MAX_SHORTEST_BYTES + 1);
}

/**
 * {@link writeJsonElements} of an FP32, FP16 or BF16 tensor as ASCII bytes into `out` from `at`, which must have
 * room for {@link jsonElementsRoom}`(end - start)` bytes; returns the offset after them. Returns -1 (writing
 * nothing) for other datatypes, which {@link writeJsonElements} writes as text.
 *
 * @internal
 */
export function writeJsonElementsInto(t: Tensor, start: number, end: number, where: string, out: Buffer, at: number): number {
  switch (t.datatype) {
    case 'FP32':
      return writeRoundedInto(t.data as Float32Array, start, end, where, 0, out, at);
    case 'FP16':
      return writeRoundedInto(t.data as Float32Array, start, end, where, 1, out, at);
    case 'BF16':
      return writeRoundedInto(t.data as Float32Array, start, end, where, 2, out, at);
    default:
      return -1;
  }
}

/**
 * Numbers separated by commas, e.g. `1,4` for a shape: `join(',')` without its fixed cost (about 900 instructions a
 * call, most of a small response's shape), for the few elements a shape has.
 *
 * @internal
 */
export function joinNumbers(values: readonly number[]): string {
  if (values.length === 0) return '';
  let text = '' + values[0];
  for (let i = 1; i < values.length; i++) text += ',' + values[i];
  return text;
}

function writeBool(data: Uint8Array, start: number, end: number): string {
  const parts = new Array<string>(end - start);
  for (let i = start; i < end; i++) parts[i - start] = data[i] === 0 ? 'false' : 'true';
  return parts.join(',');
}

/** Bytes of ASCII the float writer reuses between calls (a larger one is let go after its call). */
let scratch = Buffer.alloc(0);
const KEPT_SCRATCH_BYTES = 1 << 20;

/**
 * FP32 (format 0), FP16 (1) or BF16 (2) values held in a Float32Array. Each element's shortest text is written as
 * ASCII straight into a buffer (no string per element), which becomes the text in one native conversion.
 */
function writeRounded(data: Float32Array, start: number, end: number, where: string, format: 0 | 1 | 2): string {
  const need = jsonElementsRoom(end - start);
  let out = scratch;
  if (out.length < need) {
    out = Buffer.allocUnsafe(need);
    if (need <= KEPT_SCRATCH_BYTES) scratch = out;
  }
  return out.toString('latin1', 0, writeRoundedInto(data, start, end, where, format, out, 0));
}

function writeRoundedInto(data: Float32Array, start: number, end: number, where: string, format: 0 | 1 | 2, out: Buffer, from: number): number {
  let at = from;
  for (let i = start; i < end; i++) {
    let v = data[i];
    if (format === 1) v = roundToHalf(v);
    else if (format === 2) v = roundToBf16(v);
    if (v - v !== 0) throw notFinite(where);
    if (i > start) out[at++] = 0x2c;
    at = writeShortest(v, format, out, at);
  }
  return at;
}

function writeFloat64(data: Float64Array, start: number, end: number, where: string): string {
  let plain = true;
  const values: number[] = [];
  for (let i = start; i < end; i++) {
    const v = data[i];
    if (v - v !== 0) throw notFinite(where);
    if (v === 0 && 1 / v < 0) plain = false;
    values.push(v);
  }
  // String(v) is already the shortest round-trip form, and JSON.stringify of an array of doubles (the native
  // writer's fast path, about twice as fast as a typed array's join) writes it all at once; -0 it would write as 0.
  if (plain) {
    const text = JSON.stringify(values);
    return text.slice(1, text.length - 1);
  }
  const parts = new Array<string>(end - start);
  for (let i = start; i < end; i++) parts[i - start] = formatFloat64(data[i]);
  return parts.join(',');
}

function writeBytes(data: ByteStrings, start: number, end: number): string {
  const parts = new Array<string>(end - start);
  for (let i = start; i < end; i++) parts[i - start] = JSON.stringify(data.text(i));
  return parts.join(',');
}
