import { Buffer } from 'node:buffer';
import type { Datatype } from '../model/datatype';
import { describeValue } from './codec-error.util';
import { JsonNumberReader } from './json-number.util';
import { decodeJsonStringPrefix, jsonStringEnd } from './json-string.util';
import { convertValues } from './value-converter.util';
import type { CodecErrorFactory } from '../errors';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
const reader = new JsonNumberReader();

/**
 * The JS value the exact parser gives for the element at `p` of well-formed tensor data, as far as an error
 * message needs it: numbers (bigint beyond 2^53), booleans, null, strings (their first 41 or more characters: a
 * message quotes at most 40) and `{}` for an object.
 *
 * @internal
 */
export function elementValue(b: Buffer, p: number): unknown {
  const c = b[p];
  if (c === 0x22) return decodeJsonStringPrefix(b, p + 1, jsonStringEnd(b, p + 1));
  if (c === 0x74) return true;
  if (c === 0x66) return false;
  if (c === 0x6e) return null;
  if (c === 0x7b) return {};
  reader.read(b, p);
  if (!reader.integer || reader.intDigits <= 15) return reader.value;
  const big = BigInt(b.toString('latin1', p, reader.end));
  return big >= MIN_SAFE && big <= MAX_SAFE ? Number(big) : big;
}

/**
 * Element `i` of a tensor, as the shared converter takes it: its converted value when the converter accepts `v`
 * (a value a decoder's fast path does not handle), else the converter's error for it, naming index `i` (the
 * converter saw it as index 0). Every message about a bad value thus comes from the one converter.
 *
 * @internal
 */
export function convertElement(v: unknown, i: number, dt: Datatype, where: string, fail: CodecErrorFactory): unknown {
  let converted: ArrayLike<unknown>;
  try {
    converted = convertValues([v], dt, where, fail) as ArrayLike<unknown>;
  } catch (err) {
    const head = `${where}: value ${describeValue(v)} at index `;
    const message = (err as Error).message;
    if (i === 0 || !message.startsWith(head + '0')) throw err;
    throw fail(`${head}${i}${message.slice(head.length + 1)}`);
  }
  return converted[0];
}
