import type { Datatype } from '../model/datatype';
import type { DeferredTensorData } from './deferred-tensor-data';

const DOT = 0x2e;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_T = 0x74;
const LOWER_F = 0x66;

/**
 * The rules of `inferDatatype` (output.encoder.ts) for the values of a large body's array still held as bytes ({@link DeferredTensorData}), found
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
