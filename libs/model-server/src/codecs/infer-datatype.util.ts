import type { Datatype } from '../model/datatype';
import type { DeferredTensorData } from './deferred-tensor-data';

/**
 * The datatype plain (flat) values imply: strings / byte arrays → BYTES, booleans → BOOL, bigints → INT64,
 * numbers → INT64 when all are integers, else FP64. The first element decides the kind; decoding or converting
 * then refuses elements of another kind. No elements: FP32.
 *
 * @internal
 */
export function inferDatatype(values: readonly unknown[]): Datatype {
  if (values.length === 0) return 'FP32';
  const first = values[0];
  if (typeof first === 'string' || first instanceof Uint8Array) return 'BYTES';
  if (typeof first === 'boolean') return 'BOOL';
  if (typeof first === 'bigint') return 'INT64';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && !Number.isInteger(v)) return 'FP64';
  }
  return 'INT64';
}

const DOT = 0x2e;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_T = 0x74;
const LOWER_F = 0x66;

/**
 * The same rules for the values of a large body's array still held as bytes ({@link DeferredTensorData}), found
 * without a JS value per element: strings → BYTES; otherwise `true` / `false` → BOOL, a fraction or an exponent →
 * FP64, else INT64 (each a native byte search of the array's text). Mixed kinds get the datatype of one of them,
 * and decoding then refuses the others with a 400. No elements: FP32.
 *
 * @internal
 */
export function inferDeferredDatatype(data: DeferredTensorData): Datatype {
  if (data.elements === 0) return 'FP32';
  if (data.strings > 0) return 'BYTES';
  const text = data.body.subarray(data.start, data.end);
  if (text.indexOf(LOWER_T) !== -1 || text.indexOf(LOWER_F) !== -1) return 'BOOL';
  if (text.indexOf(DOT) !== -1 || text.indexOf(LOWER_E) !== -1 || text.indexOf(UPPER_E) !== -1) return 'FP64';
  return 'INT64';
}
