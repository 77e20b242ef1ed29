import { ErrorCode } from '../errors/error-code.enum';
import { ByteStrings } from '../model/byte-strings';
import type { Tensor } from '../model/tensor.interface';
import { formatBf16, formatFloat32, formatHalf } from './float-format.util';
import { roundToBf16, roundToHalf } from './fp16.util';
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

  it('writes every layout of Number.prototype.toString the element texts have, and reads back exactly', () => {
    // Fixed, fractional, 0.000ddd, exponential (small and large), integers longer than the search, -0, zero.
    const values = [123456.7, 1234567936, 16777216, 1.5e-7, 0.000123, 9.5e20, 3e21, -4.25e-13, 0.0000012345678, -0, 0, 1e-45, 7];
    for (let i = 0; i < 2000; i++) values.push(Number((Math.sin(i) * 10 ** ((i % 40) - 15)).toPrecision(1 + (i % 9))));
    const data = Float32Array.from(values);
    const text = write({ datatype: 'FP32', shape: [data.length], data });
    expect(text).toBe('[' + Array.from(data, (v) => formatFloat32(v)).join(',') + ']');
    expect(Float32Array.from(JSON.parse(text) as number[])).toEqual(data);
    const halves = Float32Array.from(values.filter((v) => Math.abs(v) < 65504));
    expect(write({ datatype: 'FP16', shape: [halves.length], data: halves })).toBe('[' + Array.from(halves, (v) => formatHalf(roundToHalf(v))).join(',') + ']');
    expect(write({ datatype: 'BF16', shape: [data.length], data })).toBe('[' + Array.from(data, (v) => formatBf16(roundToBf16(v))).join(',') + ']');
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
