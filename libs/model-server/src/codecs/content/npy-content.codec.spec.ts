import { ByteStrings, type InferenceResponse, type Tensor } from '../../model';
import { contentTarget } from './content-target.util';
import { NpyContentCodec } from './npy-content.codec';
import { readNpyHeader, writeNpyHeader } from './npy-format.util';

const codec = new NpyContentCodec();
const UNDECLARED = contentTarget('m', []);

/** An .npy file as numpy writes it (header padded to 64 bytes). */
function npy(descr: string, shape: number[], data: Uint8Array, fortran = false, version = 1): Buffer {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${dims}, }`;
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  header.write('\x93NUMPY', 0, 'latin1');
  header[6] = version;
  if (version === 1) header.writeUInt16LE(total - prefix, 8);
  else header.writeUInt32LE(total - prefix, 8);
  header.write(dict, prefix, 'latin1');
  header[total - 1] = 0x0a;
  return Buffer.concat([header, data]);
}

function bytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function response(outputs: Tensor[]): InferenceResponse {
  return { model_name: 'm', id: '1', outputs };
}

describe('NpyContentCodec', () => {
  it("reads an array with its own dtype and shape when the model declares none (bytes used as they are)", () => {
    const body = npy('<f4', [2, 2], bytes(Float32Array.from([1, 2, 3, 4])));
    const tensor = codec.decode(body, UNDECLARED).request.inputs[0];
    expect(tensor).toMatchObject({ name: 'input-0', datatype: 'FP32', shape: [2, 2] });
    expect(Buffer.from(tensor.raw!)).toEqual(body.subarray(readNpyHeader(body).dataOffset));
  });

  it("converts numpy's float64 to the declared FP32 input", () => {
    const target = contentTarget('iris', [{ name: 'input-0', datatype: 'FP32', shape: [-1, 4] }]);
    const tensor = codec.decode(npy('<f8', [1, 4], bytes(Float64Array.from([5.1, 3.5, 1.4, 0.2]))), target).request.inputs[0];
    expect(tensor).toEqual({ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: Float64Array.from([5.1, 3.5, 1.4, 0.2]) });
  });

  it('reads version 2 headers, bool, 64-bit integers and fixed bytes', () => {
    expect(codec.decode(npy('|b1', [3], Uint8Array.from([1, 0, 1]), false, 2), UNDECLARED).request.inputs[0]).toMatchObject({ datatype: 'BOOL', shape: [3] });
    expect(codec.decode(npy('<i8', [], bytes(BigInt64Array.from([-5n]))), UNDECLARED).request.inputs[0]).toMatchObject({ datatype: 'INT64', shape: [] });
    const strings = codec.decode(npy('|S3', [2], Buffer.from('ab\0xyz')), UNDECLARED).request.inputs[0];
    expect(strings).toMatchObject({ name: 'input-0', datatype: 'BYTES', shape: [2] });
    expect(strings.data).toBeInstanceOf(ByteStrings);
    expect((strings.data as ByteStrings).toStrings()).toEqual(['ab', 'xyz']);
    expect((strings.data as ByteStrings).bytes.length).toBe(5); // one compact buffer, padding dropped
  });

  it('refuses what it cannot read with a 400 that says why', () => {
    expect(() => codec.decode(Buffer.from('not numpy at all'), UNDECLARED)).toThrow('does not start with the NPY magic bytes');
    expect(() => codec.decode(npy('>f4', [1], new Uint8Array(4)), UNDECLARED)).toThrow("big-endian dtype '>f4'; send little-endian data (arr.astype('<f4'))");
    expect(() => codec.decode(npy('<f4', [2, 2], new Uint8Array(16), true), UNDECLARED)).toThrow('is in Fortran order');
    expect(() => codec.decode(npy('|O', [1], new Uint8Array(8)), UNDECLARED)).toThrow("has dtype '|O'");
    expect(() => codec.decode(npy('<c16', [1], new Uint8Array(16)), UNDECLARED)).toThrow("has dtype '<c16'");
    expect(() => codec.decode(npy('<f4', [2], new Uint8Array(4)), UNDECLARED)).toThrow('has 4 data bytes, but shape (2) of \'<f4\' needs 8');
    const truncated = npy('<f4', [1], new Uint8Array(4)).subarray(0, 30);
    expect(() => codec.decode(truncated, UNDECLARED)).toThrow(/declares a \d+-byte header but has only 30 bytes/);
  });

  it('writes the first output as an .npy file numpy can read', () => {
    const out = codec.encode(response([{ name: 'p', datatype: 'FP32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }]));
    const header = readNpyHeader(out);
    expect(header).toEqual({ datatype: 'FP32', itemSize: 4, shape: [2, 3], dataOffset: header.dataOffset });
    expect(header.dataOffset % 64).toBe(0);
    expect(out.toString('latin1', 0, 8)).toBe('\x93NUMPY\x01\x00');
    expect(out.toString('latin1', 10, header.dataOffset)).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    expect(Array.from(new Float32Array(out.buffer.slice(out.byteOffset + header.dataOffset, out.byteOffset + out.length)))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('writes FP16, BF16, BOOL and BYTES outputs', () => {
    expect(readNpyHeader(codec.encode(response([{ name: 'h', datatype: 'FP16', shape: [1], data: Float32Array.from([1.5]) }]))).datatype).toBe('FP16');
    expect(readNpyHeader(codec.encode(response([{ name: 'b', datatype: 'BF16', shape: [1], data: Float32Array.from([1.5]) }]))).datatype).toBe('FP32');
    const bools = codec.encode(response([{ name: 'ok', datatype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) }]));
    expect([...bools.subarray(readNpyHeader(bools).dataOffset)]).toEqual([1, 0]);
    const strings = codec.encode(response([{ name: 's', datatype: 'BYTES', shape: [2], data: ByteStrings.from(['a', 'xyz']) }]));
    expect(readNpyHeader(strings)).toMatchObject({ datatype: 'BYTES', itemSize: 3, shape: [2] });
    expect(strings.subarray(readNpyHeader(strings).dataOffset).toString('latin1')).toBe('a\0\0xyz');
  });

  it('writes scalar and 1-D shapes as Python tuples, and round-trips through its own reader', () => {
    expect(writeNpyHeader('<f8', []).toString('latin1')).toContain("'shape': (), }");
    expect(writeNpyHeader('<f8', [5]).toString('latin1')).toContain("'shape': (5,), }");
    const out = codec.encode(response([{ name: 'i', datatype: 'INT64', shape: [2], data: BigInt64Array.from([1n, -2n]) }]));
    const back = codec.decode(out, UNDECLARED).request.inputs[0];
    expect(back).toMatchObject({ datatype: 'INT64', shape: [2] });
  });
});
