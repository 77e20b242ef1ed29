import { ErrorCode } from '../../errors/error-code.enum';
import { ByteStrings, type InferenceResponse, type Tensor } from '../../model';
import type { ContentTarget, DecodedContent } from './content-codec.interface';
import { contentTarget } from './content-target.util';
import { NpyContentCodec } from './npy-content.codec';
import { readNpyHeader, writeNpyHeader } from './npy-format.util';
import { errorOf } from '../../../../../test/helpers/error-of';

const codec = new NpyContentCodec();
const UNDECLARED = contentTarget('m', []);

/** Decodes a small body, which the codec reads at once (no Promise). */
function decode(body: Buffer, target: ContentTarget): DecodedContent {
  const result = codec.decode(body, target);
  if (result instanceof Promise) throw new Error('a small body should be read at once');
  return result;
}

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
    const tensor = decode(body, UNDECLARED).request.inputs[0];
    expect(tensor).toMatchObject({ name: 'input-0', datatype: 'FP32', shape: [2, 2] });
    expect(Buffer.from(tensor.raw!)).toEqual(body.subarray(readNpyHeader(body).dataOffset));
  });

  it("converts numpy's float64 to the declared FP32 input", () => {
    const target = contentTarget('iris', [{ name: 'input-0', datatype: 'FP32', shape: [-1, 4] }]);
    const tensor = decode(npy('<f8', [1, 4], bytes(Float64Array.from([5.1, 3.5, 1.4, 0.2]))), target).request.inputs[0];
    expect(tensor).toEqual({ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: Float64Array.from([5.1, 3.5, 1.4, 0.2]) });
  });

  it('reads version 2 headers, bool, 64-bit integers and fixed bytes', () => {
    expect(decode(npy('|b1', [3], Uint8Array.from([1, 0, 1]), false, 2), UNDECLARED).request.inputs[0]).toMatchObject({ datatype: 'BOOL', shape: [3] });
    expect(decode(npy('<i8', [], bytes(BigInt64Array.from([-5n]))), UNDECLARED).request.inputs[0]).toMatchObject({ datatype: 'INT64', shape: [] });
    const strings = decode(npy('|S3', [2], Buffer.from('ab\0xyz')), UNDECLARED).request.inputs[0];
    expect(strings).toMatchObject({ name: 'input-0', datatype: 'BYTES', shape: [2] });
    expect(strings.data).toBeInstanceOf(ByteStrings);
    expect((strings.data as ByteStrings).toStrings()).toEqual(['ab', 'xyz']);
    expect((strings.data as ByteStrings).bytes.length).toBe(5); // one compact buffer, padding dropped
  });

  it('refuses what it cannot read with a 400 that says why', () => {
    expect(() => decode(Buffer.from('not numpy at all'), UNDECLARED)).toThrow('does not start with the NPY magic bytes');
    expect(() => decode(npy('>f4', [1], new Uint8Array(4)), UNDECLARED)).toThrow("big-endian dtype '>f4'; send little-endian data (arr.astype('<f4'))");
    expect(() => decode(npy('<f4', [2, 2], new Uint8Array(16), true), UNDECLARED)).toThrow('is in Fortran order');
    expect(() => decode(npy('|O', [1], new Uint8Array(8)), UNDECLARED)).toThrow("has dtype '|O'");
    expect(() => decode(npy('<c16', [1], new Uint8Array(16)), UNDECLARED)).toThrow("has dtype '<c16'");
    expect(() => decode(npy('<f4', [2], new Uint8Array(4)), UNDECLARED)).toThrow('has 4 data bytes, but shape (2) of \'<f4\' needs 8');
    const truncated = npy('<f4', [1], new Uint8Array(4)).subarray(0, 30);
    expect(() => decode(truncated, UNDECLARED)).toThrow(/declares a \d+-byte header but has only 30 bytes/);
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
    const back = decode(out, UNDECLARED).request.inputs[0];
    expect(back).toMatchObject({ datatype: 'INT64', shape: [2] });
  });

  describe('hostile bodies', () => {
    const FP32_MODEL = contentTarget('m', [{ name: 'x', datatype: 'FP32', shape: [-1] }]);

    /** An .npy body whose header (after the 12-byte v2 prefix) is `dict` as it is, not padded. */
    function rawHeader(dict: string, data: Uint8Array = new Uint8Array(0)): Buffer {
      const prefix = Buffer.alloc(12);
      prefix.write('\x93NUMPY', 0, 'latin1');
      prefix[6] = 2;
      prefix.writeUInt32LE(Buffer.byteLength(dict, 'latin1'), 8);
      return Buffer.concat([prefix, Buffer.from(dict, 'latin1'), data]);
    }

    it("refuses a header over numpy's own 10,000-byte limit (400) without reading it", () => {
      const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (1,), ${"'x': 1, ".repeat(22_500)}}`;
      const err = errorOf(() => decode(rawHeader(dict, new Uint8Array(4)), UNDECLARED));
      expect(err.code).toBe(ErrorCode.InvalidRequest);
      expect(err.message).toBe(
        `the application/x-npy body declares a ${dict.length}-byte header, over numpy's own limit of 10000 bytes (max_header_size); numpy writes far shorter ones`,
      );
    });

    it('reads a header in one pass and quotes it clipped when it is malformed', () => {
      // Quotes and colons that made the old pattern backtrack; within the size limit.
      const dict = `{'descr': '<f4', 'shape': (1,), 'fortran_order': False, ` + `'descr' :'descr':`.repeat(500) + '}';
      const err = errorOf(() => decode(rawHeader(dict, new Uint8Array(4)), UNDECLARED));
      expect(err.code).toBe(ErrorCode.InvalidRequest);
      expect(err.message).toMatch(/^the application\/x-npy body header is not the dict numpy writes \(at character \d+\): \{'descr'/);
      expect(err.message.length).toBeLessThan(400);
      const unknown = errorOf(() => decode(rawHeader(`{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}`, new Uint8Array(4)), UNDECLARED));
      expect(unknown.message).toBe("the application/x-npy body header has the key 'extra'; numpy writes only 'descr', 'fortran_order' and 'shape'");
      const structured = errorOf(() => decode(rawHeader(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}`, new Uint8Array(4)), UNDECLARED));
      expect(structured.message).toMatch(/^the application\/x-npy body header has no string 'descr' \(structured arrays are refused\)/);
      const shape = errorOf(() => decode(rawHeader(`{'descr': '<f4', 'fortran_order': False, 'shape': (1, x)}`, new Uint8Array(4)), UNDECLARED));
      expect(shape.message).toBe('the application/x-npy body has an invalid shape (1, x)');
    });

    it('accepts the layouts numpy and Python 2 wrote: double quotes, no trailing comma, long integers', () => {
      const body = rawHeader(`{"descr": "<i2", "shape": (2L, 1L), "fortran_order": False}  \n`, bytes(Int16Array.from([7, -7])));
      expect(decode(body, UNDECLARED).request.inputs[0]).toMatchObject({ datatype: 'INT16', shape: [2, 1] });
    });

    it('refuses |S1 for an FP32 model at once (400), before building any element', () => {
      const body = npy('|S1', [1_000_000], Buffer.alloc(1_000_000, 0x61));
      const err = errorOf(() => decode(body, FP32_MODEL));
      expect(err.code).toBe(ErrorCode.InvalidRequest);
      expect(err.message).toBe("the application/x-npy array has dtype 'S1', but input 'x' of model 'm' is FP32; send a numeric or boolean array");
      const toBytes = contentTarget('m', [{ name: 's', datatype: 'BYTES', shape: [-1] }]);
      expect(errorOf(() => decode(npy('<f8', [1], new Uint8Array(8)), toBytes)).message).toBe(
        "the application/x-npy array has dtype 'f8', but input 's' of model 'm' is BYTES; send a bytes array (dtype S)",
      );
    });

    it('takes fixed bytes and conversions from the tensor budget before allocating (413)', () => {
      const small = contentTarget('m', [], 4096);
      const err = errorOf(() => decode(npy('|S1', [1000], Buffer.alloc(1000, 0x61)), small));
      expect(err.code).toBe(ErrorCode.PayloadTooLarge);
      expect(err.message).toBe("input 'input-0' would take 5000 bytes decoded, over what is left of the request's 4096-byte budget for tensors (maxTensorBytes)");
      const toFp32 = contentTarget('m', [{ name: 'x', datatype: 'FP32', shape: [-1] }], 4096);
      expect(errorOf(() => decode(npy('<f2', [4000], new Uint8Array(8000)), toFp32)).code).toBe(ErrorCode.PayloadTooLarge);
      expect(decode(npy('|S1', [800], Buffer.alloc(800, 0x61)), small).request.inputs[0].shape).toEqual([800]);
    });

    it('refuses a shape of more than 2^32 elements over no data', () => {
      const err = errorOf(() => decode(npy('|S0', [65536, 65536, 2], new Uint8Array(0)), UNDECLARED));
      expect(err.message).toBe('the application/x-npy body has shape (65536, 65536, 2): more than 2^32 (4294967296) elements');
      expect(errorOf(() => decode(npy('|S0', [65536, 65536], new Uint8Array(0)), UNDECLARED)).code).toBe(ErrorCode.PayloadTooLarge);
    });

    it('reads a large |S1 array in slices, letting the event loop run in between', async () => {
      const n = 5 * 1024 * 1024;
      const data = Buffer.alloc(n, 0x61);
      data[n - 1] = 0; // a trailing NUL: the last element is empty
      let turns = 0;
      let ticking = true;
      const tick = (): void => {
        turns++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      const pending = codec.decode(npy('|S1', [n], data), UNDECLARED);
      expect(pending).toBeInstanceOf(Promise);
      const strings = (await pending).request.inputs[0].data as ByteStrings;
      ticking = false;
      expect(strings.length).toBe(n);
      expect([strings.text(0), strings.text(n - 2), strings.text(n - 1)]).toEqual(['a', 'a', '']);
      expect(strings.byteLength).toBe(n - 1);
      expect(turns).toBeGreaterThanOrEqual(2);
    });
  });
});
