import { Buffer } from 'node:buffer';
import { clip } from '../../errors/clip.util';
import type { Datatype } from '../../model/datatype';
import { invalidRequest } from '../../errors';

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

/** numpy's own cap on the header of an .npy file it reads (`max_header_size` of `np.load`). @internal */
export const NPY_MAX_HEADER_BYTES = 10_000;

/** The most elements an array may hold (as for every tensor: 2^32). */
const MAX_ELEMENTS = 2 ** 32;

function bad(message: string): never {
  throw invalidRequest(`the application/x-npy body ${message}`);
}

function parseDescr(descr: string): { datatype: Datatype; itemSize: number } {
  const m = /^([<>|=]?)([a-zA-Z])(\d{1,10})$/.exec(descr);
  if (m === null) bad(`has dtype '${clip(descr, 40)}', which is not a plain numeric, boolean or bytes dtype (structured and object arrays are refused)`);
  const [, order, kind, size] = m;
  if (kind === 'S') return { datatype: 'BYTES', itemSize: Number(size) };
  const datatype = DESCR[kind + size];
  if (datatype === undefined) bad(`has dtype '${descr}'; supported: bool, int8-64, uint8-64, float16/32/64 and fixed bytes (S)`);
  if (order === '>' && Number(size) > 1) bad(`has big-endian dtype '${descr}'; send little-endian data (arr.astype('${'<' + kind + size}'))`);
  return { datatype, itemSize: Number(size) };
}

/** What the header dict says; a field is undefined when the dict does not give it. */
interface HeaderDict {
  /** The `descr` string, or null when it is not a string (a structured dtype's list of fields). */
  descr: string | null | undefined;
  fortran: boolean | undefined;
  shape: number[] | undefined;
}

/**
 * Reads the header dict numpy writes (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`) in one
 * pass over its characters: no regular expression, nothing that backtracks, so any header costs time in
 * proportion to its length (at most {@link NPY_MAX_HEADER_BYTES}).
 */
class HeaderDictReader {
  private pos = 0;

  constructor(private readonly text: string) {}

  read(): HeaderDict {
    const dict: HeaderDict = { descr: undefined, fortran: undefined, shape: undefined };
    this.expect(0x7b /* { */);
    for (;;) {
      this.blanks();
      if (this.peek() === 0x7d /* } */) break;
      const key = this.string();
      this.blanks();
      this.expect(0x3a /* : */);
      this.blanks();
      if (key === 'descr') dict.descr = this.peek() === 0x27 || this.peek() === 0x22 ? this.string() : null;
      else if (key === 'fortran_order') dict.fortran = this.bool();
      else if (key === 'shape') dict.shape = this.shape();
      else bad(`header has the key '${clip(key, 40)}'; numpy writes only 'descr', 'fortran_order' and 'shape'`);
      if (dict.descr === null) return dict; // a structured dtype: refused by the caller
      this.blanks();
      if (this.peek() === 0x2c /* , */) this.pos++;
      else if (this.peek() !== 0x7d) this.malformed();
    }
    this.pos++;
    this.blanks();
    if (this.pos !== this.text.length) this.malformed();
    return dict;
  }

  private peek(): number {
    return this.text.charCodeAt(this.pos);
  }

  private blanks(): void {
    let c = this.peek();
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = this.text.charCodeAt(++this.pos);
  }

  private expect(c: number): void {
    if (this.peek() !== c) this.malformed();
    this.pos++;
  }

  private malformed(): never {
    bad(`header is not the dict numpy writes (at character ${this.pos}): ${clip(this.text.trim())}`);
  }

  /** A quoted string without escapes (numpy's keys and dtype strings have none). */
  private string(): string {
    const text = this.text;
    const quote = this.peek();
    if (quote !== 0x27 && quote !== 0x22) this.malformed();
    const start = ++this.pos;
    let c = this.peek();
    while (c !== quote) {
      if (c === 0x5c /* \ */ || this.pos >= text.length) this.malformed();
      c = text.charCodeAt(++this.pos);
    }
    this.pos++;
    return text.slice(start, this.pos - 1);
  }

  private bool(): boolean {
    if (this.text.startsWith('True', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.text.startsWith('False', this.pos)) {
      this.pos += 5;
      return false;
    }
    return this.malformed();
  }

  /** A tuple of non-negative integers, e.g. `()`, `(5,)`, `(2, 3)` (Python 2's `3L` accepted). */
  private shape(): number[] {
    const open = this.pos;
    this.expect(0x28 /* ( */);
    const shape: number[] = [];
    for (;;) {
      this.blanks();
      let c = this.peek();
      if (c === 0x29 /* ) */) break;
      if (!(c >= 0x30 && c <= 0x39)) this.badShape(open);
      let d = 0;
      while (c >= 0x30 && c <= 0x39) {
        d = d * 10 + (c - 0x30);
        if (d > Number.MAX_SAFE_INTEGER) this.badShape(open);
        c = this.text.charCodeAt(++this.pos);
      }
      if (c === 0x4c /* L */) this.pos++;
      shape.push(d);
      this.blanks();
      c = this.peek();
      if (c === 0x2c /* , */) this.pos++;
      else if (c !== 0x29) this.badShape(open);
    }
    this.pos++;
    return shape;
  }

  private badShape(open: number): never {
    const close = this.text.indexOf(')', open);
    bad(`has an invalid shape ${clip(this.text.slice(open, close === -1 ? this.text.length : close + 1), 80)}`);
  }
}

/**
 * Reads the header of an .npy body (format versions 1, 2 and 3): magic, version, header length (at most
 * numpy's own {@link NPY_MAX_HEADER_BYTES}) and the Python-literal header dict with `descr`, `fortran_order` and
 * `shape`. Fortran-ordered and big-endian arrays, object / structured dtypes and a data size that does not match
 * the shape are 400s; messages quote the header clipped.
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
  if (headerLength > NPY_MAX_HEADER_BYTES) {
    bad(`declares a ${headerLength}-byte header, over numpy's own limit of ${NPY_MAX_HEADER_BYTES} bytes (max_header_size); numpy writes far shorter ones`);
  }
  const dataOffset = 8 + lengthSize + headerLength;
  if (dataOffset > body.length) bad(`declares a ${headerLength}-byte header but has only ${body.length} bytes`);
  const header = body.toString(major === 3 ? 'utf8' : 'latin1', 8 + lengthSize, dataOffset);
  const dict = new HeaderDictReader(header).read();
  if (typeof dict.descr !== 'string') bad(`header has no string 'descr' (structured arrays are refused): ${clip(header.trim())}`);
  if (dict.fortran === undefined) bad(`header has no 'fortran_order': ${clip(header.trim())}`);
  if (dict.fortran) bad("is in Fortran order; send C-ordered data (np.ascontiguousarray)");
  const shape = dict.shape;
  if (shape === undefined) bad(`header has no 'shape': ${clip(header.trim())}`);
  const descr = dict.descr;
  const { datatype, itemSize } = parseDescr(descr);
  let count = 1;
  for (const d of shape) count *= d;
  if (count > MAX_ELEMENTS) bad(`has shape ${clip(`(${shape.join(', ')})`, 80)}: more than 2^32 (${MAX_ELEMENTS}) elements`);
  const expected = count * itemSize;
  if (body.length - dataOffset !== expected) {
    bad(`has ${body.length - dataOffset} data bytes, but shape ${clip(`(${shape.join(', ')})`, 80)} of '${descr}' needs ${expected}`);
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
