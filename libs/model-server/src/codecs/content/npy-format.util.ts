import { invalidRequest } from '../../errors/errors';
import type { Datatype } from '../../model/datatype';

/** `\x93NUMPY`: the first six bytes of every .npy file. */
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
/** numpy pads the header so the data starts on a multiple of this. */
const ALIGN = 64;

/** The parsed header of an .npy body. @internal */
export interface NpyHeader {
  /** The tensor datatype of the `descr`. */
  datatype: Datatype;
  /** Bytes per element (for `|S<n>`: n). */
  itemSize: number;
  shape: number[];
  /** Offset of the data in the body. */
  dataOffset: number;
}

/** numpy `descr` kinds (without byte order) and the datatypes they carry. */
const DESCR: Readonly<Record<string, Datatype>> = {
  b1: 'BOOL',
  u1: 'UINT8',
  u2: 'UINT16',
  u4: 'UINT32',
  u8: 'UINT64',
  i1: 'INT8',
  i2: 'INT16',
  i4: 'INT32',
  i8: 'INT64',
  f2: 'FP16',
  f4: 'FP32',
  f8: 'FP64',
};

/** The `descr` written for each datatype (BF16 has no numpy type: written as float32). @internal */
export const NPY_DESCR: Readonly<Record<Exclude<Datatype, 'BYTES'>, string>> = {
  BOOL: '|b1',
  UINT8: '|u1',
  UINT16: '<u2',
  UINT32: '<u4',
  UINT64: '<u8',
  INT8: '|i1',
  INT16: '<i2',
  INT32: '<i4',
  INT64: '<i8',
  FP16: '<f2',
  BF16: '<f4',
  FP32: '<f4',
  FP64: '<f8',
};

function bad(message: string): never {
  throw invalidRequest(`the application/x-npy body ${message}`);
}

function parseDescr(descr: string): { datatype: Datatype; itemSize: number } {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (m === null) bad(`has dtype '${descr}', which is not a plain numeric, boolean or bytes dtype (structured and object arrays are refused)`);
  const [, order, kind, size] = m;
  if (kind === 'S') return { datatype: 'BYTES', itemSize: Number(size) };
  const datatype = DESCR[kind + size];
  if (datatype === undefined) bad(`has dtype '${descr}'; supported: bool, int8-64, uint8-64, float16/32/64 and fixed bytes (S)`);
  if (order === '>' && Number(size) > 1) bad(`has big-endian dtype '${descr}'; send little-endian data (arr.astype('${'<' + kind + size}'))`);
  return { datatype, itemSize: Number(size) };
}

/**
 * Reads the header of an .npy body (format versions 1, 2 and 3): magic, version, header length and the
 * Python-literal header dict with `descr`, `fortran_order` and `shape`. Fortran-ordered and big-endian arrays,
 * object / structured dtypes and a data size that does not match the shape are 400s.
 *
 * @internal
 */
export function readNpyHeader(body: Buffer): NpyHeader {
  if (body.length < 10 || !body.subarray(0, 6).equals(MAGIC)) bad('does not start with the NPY magic bytes (\\x93NUMPY)');
  const major = body[6];
  if (major < 1 || major > 3) bad(`is NPY format version ${major}.${body[7]}; versions 1, 2 and 3 are read`);
  const lengthSize = major === 1 ? 2 : 4;
  if (body.length < 8 + lengthSize) bad('ends inside its header');
  const headerLength = major === 1 ? body.readUInt16LE(8) : body.readUInt32LE(8);
  const dataOffset = 8 + lengthSize + headerLength;
  if (dataOffset > body.length) bad(`declares a ${headerLength}-byte header but has only ${body.length} bytes`);
  const header = body.toString(major === 3 ? 'utf8' : 'latin1', 8 + lengthSize, dataOffset);

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  if (descr === undefined) bad(`header has no string 'descr' (structured arrays are refused): ${header.trim()}`);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  if (fortran === undefined) bad(`header has no 'fortran_order': ${header.trim()}`);
  if (fortran === 'True') bad("is in Fortran order; send C-ordered data (np.ascontiguousarray)");
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) bad(`header has no 'shape': ${header.trim()}`);
  const shape: number[] = [];
  for (const part of shapeText.split(',')) {
    const dim = part.trim().replace(/L$/, '');
    if (dim === '') continue;
    if (!/^\d+$/.test(dim)) bad(`has an invalid shape (${shapeText})`);
    shape.push(Number(dim));
  }
  const { datatype, itemSize } = parseDescr(descr);
  let count = 1;
  for (const d of shape) count *= d;
  const expected = count * itemSize;
  if (!Number.isSafeInteger(expected) || body.length - dataOffset !== expected) {
    bad(`has ${body.length - dataOffset} data bytes, but shape (${shape.join(', ')}) of '${descr}' needs ${expected}`);
  }
  return { datatype, itemSize, shape, dataOffset };
}

/**
 * The header of an .npy file for `descr` and `shape`: version 1.0 (2.0 when the header is too long for it),
 * padded with spaces and a newline so the data starts on a 64-byte boundary, as numpy writes it.
 *
 * @internal
 */
export function writeNpyHeader(descr: string, shape: readonly number[]): Buffer {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / ALIGN) * ALIGN;
  const v1 = total - prefix <= 0xffff;
  if (!v1) {
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / ALIGN) * ALIGN;
  }
  const headerLength = total - prefix;
  const out = Buffer.alloc(total, 0x20);
  MAGIC.copy(out, 0);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  if (v1) out.writeUInt16LE(headerLength, 8);
  else out.writeUInt32LE(headerLength, 8);
  out.write(dict, prefix, 'latin1');
  out[total - 1] = 0x0a;
  return out;
}
