import { ErrorCode } from '../errors/error-code.enum';
import { ByteStrings } from '../model/byte-strings';
import type { Tensor } from '../model/tensor.interface';
import { writeJsonData } from './json-data.writer';
import { errorOf } from '../../../../test/helpers/error-of';

function write(t: Omit<Tensor, 'name'>): string {
  return writeJsonData({ name: 'y', ...t } as Tensor, "output 'y'");
}

describe('writeJsonData', () => {
  it('writes integers exactly, 64-bit ones as bare integers', () => {
    expect(write({ datatype: 'INT32', shape: [3], data: new Int32Array([-2147483648, 0, 7]) })).toBe('[-2147483648,0,7]');
    expect(write({ datatype: 'UINT8', shape: [2], data: Buffer.from([0, 255]) })).toBe('[0,255]');
    expect(write({ datatype: 'INT64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) })).toBe(
      '[-9223372036854775808,9223372036854775807]',
    );
    expect(write({ datatype: 'UINT64', shape: [2], data: new BigUint64Array([0n, 2n ** 64n - 1n]) })).toBe('[0,18446744073709551615]');
  });

  it('writes BOOL as true/false', () => {
    expect(write({ datatype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) })).toBe('[true,false,true]');
  });

  it('writes FP32 values in their shortest form', () => {
    const data = new Float32Array([0.1, 1, 2.5, 3.4028234663852886e38, 1.401298464324817e-45, -0]);
    expect(write({ datatype: 'FP32', shape: [6], data })).toBe('[0.1,1,2.5,3.4028235e+38,1e-45,-0.0]');
  });

  it('writes FP16 and BF16 at their precision', () => {
    expect(write({ datatype: 'FP16', shape: [3], data: new Float32Array([0.0999755859375, 65504, -2]) })).toBe('[0.1,65504,-2]');
    expect(write({ datatype: 'BF16', shape: [2], data: new Float32Array([0.10009765625, 1]) })).toBe('[0.1,1]');
  });

  it('writes FP64 with String(v)', () => {
    const data = new Float64Array([0.1, 1.7976931348623157e308, 5e-324, -1.5]);
    expect(write({ datatype: 'FP64', shape: [4], data })).toBe('[0.1,1.7976931348623157e+308,5e-324,-1.5]');
    expect(write({ datatype: 'FP64', shape: [2], data: new Float64Array([-0, 2]) })).toBe('[-0.0,2]');
  });

  it('writes BYTES as JSON strings of their UTF-8 text', () => {
    const data = ByteStrings.from([Buffer.from('héllo "q"'), Buffer.alloc(0), Buffer.from('a\nb')]);
    expect(write({ datatype: 'BYTES', shape: [3], data })).toBe('["héllo \\"q\\"","","a\\nb"]');
  });

  it('writes BYTES held in a ByteStrings as JSON strings of their UTF-8 text', () => {
    const items = [Buffer.from('héllo "q"'), Buffer.alloc(0), Buffer.from('a\nb'), Buffer.from([0xff, 0x41])];
    expect(write({ datatype: 'BYTES', shape: [4], data: ByteStrings.from(items) })).toBe('["héllo \\"q\\"","","a\\nb","\ufffdA"]');
  });

  it('writes empty tensors as []', () => {
    expect(write({ datatype: 'FP32', shape: [3, 0], data: new Float32Array(0) })).toBe('[]');
    expect(write({ datatype: 'BYTES', shape: [0], data: ByteStrings.from([]) })).toBe('[]');
  });

  it.each([
    ['FP32', new Float32Array([1, NaN])],
    ['FP32', new Float32Array([Infinity])],
    ['FP64', new Float64Array([-Infinity])],
    ['FP16', new Float32Array([NaN])],
    ['BF16', new Float32Array([Infinity])],
  ] as const)('refuses %s NaN / Infinity with a model error', (datatype, data) => {
    const err = errorOf(() => write({ datatype, shape: [data.length], data } as Omit<Tensor, 'name'>));
    expect(err.code).toBe(ErrorCode.ModelError);
    expect(err.message).toBe("output 'y' holds NaN or Infinity, which JSON cannot carry; ask for it as binary data");
  });

  it('refuses data that is not in its typed container', () => {
    const err = errorOf(() => write({ datatype: 'FP32', shape: [1], data: [1] as unknown as Float32Array }));
    expect(err.code).toBe(ErrorCode.ModelError);
    expect(err.message).toBe("output 'y': FP32 data is not in its typed container; encode the output first");
  });
});
