import type { ByteStrings } from '../../model/byte-strings';
import type { Tensor } from '../../model/tensor.interface';
import { formatBf16, formatFloat32, formatFloat64, formatHalf } from '../float-format.util';
import { roundToBf16, roundToHalf } from '../fp16.util';
import { notAcceptable } from '../../errors';

/**
 * How text formats write values: JSON (NaN/Infinity refused, strings quoted), JSON for records (NaN/Infinity as
 * `null`, as monitoring records write them) or CSV (RFC 4180 fields). @internal
 */
export type TextFlavour = 'json' | 'json-record' | 'csv';

function csvField(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

function nonFinite(v: number, flavour: TextFlavour, where: string): string {
  if (flavour === 'csv') return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (flavour === 'json-record') return 'null';
  throw notAcceptable(`${where} holds NaN or Infinity, which JSON cannot carry; ask for application/x-npy`);
}

/**
 * Every element of a tensor as text: floats in their shortest round-trip form at the tensor's precision,
 * 64-bit integers exact, BOOL as true/false, BYTES as UTF-8 text (a JSON string, or a CSV field quoted when it
 * needs it). CSV writes NaN and infinities as `nan`, `inf`, `-inf`; JSON refuses them (406); records write `null`.
 *
 * @internal
 */
export function elementTexts(t: Tensor, flavour: TextFlavour, where: string): string[] {
  if (t.datatype === 'BYTES') return bytesTexts(t.data as ByteStrings, flavour);
  const data = t.data as Exclude<Tensor['data'], ByteStrings>;
  const n = data.length;
  const out = new Array<string>(n);
  switch (t.datatype) {
    case 'FP32':
    case 'FP16':
    case 'BF16': {
      const format = t.datatype === 'FP32' ? formatFloat32 : t.datatype === 'FP16' ? formatHalf : formatBf16;
      const round = t.datatype === 'FP16' ? roundToHalf : t.datatype === 'BF16' ? roundToBf16 : null;
      for (let i = 0; i < n; i++) {
        const v = round === null ? (data[i] as number) : round(data[i] as number);
        out[i] = Number.isFinite(v) ? format(v) : nonFinite(v, flavour, where);
      }
      return out;
    }
    case 'FP64':
      for (let i = 0; i < n; i++) {
        const v = data[i] as number;
        out[i] = Number.isFinite(v) ? formatFloat64(v) : nonFinite(v, flavour, where);
      }
      return out;
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = data[i] === 0 ? 'false' : 'true';
      return out;
    default:
      for (let i = 0; i < n; i++) out[i] = String(data[i]);
      return out;
  }
}

/** BYTES elements as UTF-8 text, written as JSON strings or CSV fields. */
function bytesTexts(data: ByteStrings, flavour: TextFlavour): string[] {
  const n = data.length;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const s = data.text(i);
    out[i] = flavour === 'csv' ? csvField(s) : JSON.stringify(s);
  }
  return out;
}

/**
 * JSON text of `count` element texts from `offset`, nested by `shape` (row-major): `[]` shape gives the bare
 * element, `[2, 2]` gives `[[a,b],[c,d]]`.
 *
 * @internal
 */
export function nestedJson(texts: readonly string[], shape: readonly number[], offset: number): string {
  if (shape.length === 0) return texts[offset];
  const parts: string[] = [];
  write(texts, shape, 0, offset, parts);
  return parts.join('');
}

function write(texts: readonly string[], shape: readonly number[], depth: number, offset: number, parts: string[]): number {
  const n = shape[depth];
  parts.push('[');
  if (depth === shape.length - 1) {
    for (let i = 0; i < n; i++) {
      if (i > 0) parts.push(',');
      parts.push(texts[offset + i]);
    }
    parts.push(']');
    return offset + n;
  }
  for (let i = 0; i < n; i++) {
    if (i > 0) parts.push(',');
    offset = write(texts, shape, depth + 1, offset, parts);
  }
  parts.push(']');
  return offset;
}

/** The number of elements of one row (product of the dimensions after the first). @internal */
export function rowSize(shape: readonly number[]): number {
  let size = 1;
  for (let i = 1; i < shape.length; i++) size *= shape[i];
  return size;
}

/**
 * Outputs as plain JSON values: one output as its values nested by its shape, several as an object keyed by
 * output name (each nested by its shape). NaN and infinities are refused (406), as JSON cannot carry them.
 *
 * @internal
 */
export function outputsJson(outputs: readonly Tensor[]): string {
  if (outputs.length === 1) return tensorValuesJson(outputs[0]);
  return '{' + outputs.map((t) => `${JSON.stringify(t.name)}:${tensorValuesJson(t)}`).join(',') + '}';
}

/** One tensor's values as JSON, nested by its shape. */
function tensorValuesJson(t: Tensor): string {
  return nestedJson(elementTexts(t, 'json', `output '${t.name}'`), t.shape, 0);
}
