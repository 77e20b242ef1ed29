import { ErrorCode } from '../errors/error-code.enum';
import { ByteStrings } from '../model/byte-strings';
import type { OutputTensor } from '../model/tensor.interface';
import { writeJsonData } from './json-data.writer';
import { encodeOutput } from './output.encoder';
import { errorOf } from '../../../../test/helpers/error-of';

function encode(out: Omit<OutputTensor, 'name'>) {
  return encodeOutput({ name: 'y', ...out }, "output 'y'");
}

function modelMessage(fn: () => unknown): string {
  const err = errorOf(fn);
  expect(err.code).toBe(ErrorCode.ModelError);
  return err.message;
}

describe('encodeOutput: inference of datatype and shape', () => {
  it('takes the datatype from the typed array class and the shape from its length', () => {
    const data = new Float32Array([1, 2, 3]);
    const t = encode({ data });
    expect(t).toEqual({ name: 'y', datatype: 'FP32', shape: [3], data });
    expect(t.data).toBe(data);
    expect(encode({ data: new BigInt64Array([1n]) }).datatype).toBe('INT64');
    expect(encode({ data: new BigUint64Array([1n]) }).datatype).toBe('UINT64');
    expect(encode({ data: new Int16Array(2) }).datatype).toBe('INT16');
    expect(encode({ data: Buffer.from([1, 2]) }).datatype).toBe('UINT8');
  });

  it('infers from plain values: strings/Buffers BYTES, booleans BOOL, bigints INT64, numbers INT64 or FP64', () => {
    const strings = encode({ data: ['a', 'bc'] });
    expect(strings).toMatchObject({ name: 'y', datatype: 'BYTES', shape: [2] });
    expect(strings.data).toBeInstanceOf(ByteStrings);
    expect((strings.data as ByteStrings).toStrings()).toEqual(['a', 'bc']);
    expect(encode({ data: [Buffer.from([0xff])] }).datatype).toBe('BYTES');
    expect(encode({ data: [true, false] })).toEqual({ name: 'y', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) });
    expect(encode({ data: [1n, -(2n ** 63n)] })).toEqual({
      name: 'y',
      datatype: 'INT64',
      shape: [2],
      data: new BigInt64Array([1n, -(2n ** 63n)]),
    });
    expect(encode({ data: [1, 2, 3] })).toEqual({ name: 'y', datatype: 'INT64', shape: [3], data: new BigInt64Array([1n, 2n, 3n]) });
    expect(encode({ data: [1, 2.5] })).toEqual({ name: 'y', datatype: 'FP64', shape: [2], data: new Float64Array([1, 2.5]) });
  });

  it('flattens nested plain data and uses the flat length as the default shape', () => {
    expect(encode({ data: [[1, 2], [3, 4]] })).toEqual({ name: 'y', datatype: 'INT64', shape: [4], data: new BigInt64Array([1n, 2n, 3n, 4n]) });
    expect(encode({ data: [[1, 2], [3, 4]], shape: [2, 2] }).shape).toEqual([2, 2]);
    expect(encode({ data: [new Float32Array([1, 2]), new Float32Array([3, 4])], shape: [2, 2] })).toEqual({
      name: 'y',
      datatype: 'FP32',
      shape: [2, 2],
      data: new Float32Array([1, 2, 3, 4]),
    });
  });

  it('treats a bare scalar as a scalar tensor', () => {
    const t = encodeOutput({ name: 'y', data: 2.5 as unknown as number[] }, "output 'y'");
    expect(t).toEqual({ name: 'y', datatype: 'FP64', shape: [], data: new Float64Array([2.5]) });
  });

  it('gives empty plain data FP32 and shape [0]', () => {
    expect(encode({ data: [] })).toEqual({ name: 'y', datatype: 'FP32', shape: [0], data: new Float32Array(0) });
    expect(encode({ datatype: 'INT32', shape: [3, 0], data: [] })).toEqual({ name: 'y', datatype: 'INT32', shape: [3, 0], data: new Int32Array(0) });
  });

  it('keeps parameters', () => {
    expect(encode({ data: [1], parameters: { p: 1 } }).parameters).toEqual({ p: 1 });
  });
});

describe('encodeOutput: conversion with the decoder’s checks, as model errors', () => {
  it('converts plain and mismatched data to the declared datatype', () => {
    expect(encode({ datatype: 'FP32', data: [0.1, 2] }).data).toEqual(new Float32Array([0.1, 2]));
    expect(encode({ datatype: 'UINT8', data: new Float64Array([1, 255]) }).data).toEqual(new Uint8Array([1, 255]));
    expect(encode({ datatype: 'FP16', data: new Float64Array([0.1]) }).data).toEqual(new Float32Array([0.0999755859375]));
  });

  it('uses the exact container as is', () => {
    const data = new Int32Array([1, 2, 3, 4]);
    expect(encode({ datatype: 'INT32', shape: [2, 2], data }).data).toBe(data);
  });

  it('rejects values out of range for the declared datatype', () => {
    expect(modelMessage(() => encode({ datatype: 'UINT8', data: [1, 256] }))).toBe(
      "output 'y': value 256 at index 1 is out of range for UINT8 (0..255)",
    );
    expect(modelMessage(() => encode({ datatype: 'INT32', data: [1.5] }))).toMatch(/value 1\.5 at index 0 is not an integer/);
    expect(modelMessage(() => encode({ data: [1, 'a'] }))).toBe(
      'output \'y\': value "a" at index 1 is not a number; INT64 takes integers in -9223372036854775808..9223372036854775807',
    );
  });

  it('checks the count against the shape', () => {
    expect(modelMessage(() => encode({ shape: [2, 2], data: new Float32Array(3) }))).toBe(
      "output 'y': shape [2,2] needs 4 elements, got 3",
    );
    expect(modelMessage(() => encode({ shape: [-1], data: [1] }))).toMatch(/has -1 at index 0/);
  });

  it('rejects unknown datatypes, missing data and non-objects', () => {
    expect(modelMessage(() => encode({ datatype: 'FLOAT' as 'FP32', data: [1] }))).toMatch(/^output 'y': unknown datatype 'FLOAT'; use one of BOOL/);
    expect(modelMessage(() => encode({ data: undefined as unknown as number[] }))).toBe("output 'y': has no 'data'");
    expect(modelMessage(() => encodeOutput(undefined as unknown as OutputTensor, "output 'undefined'"))).toMatch(
      /^output 'undefined': an output must be an object/,
    );
    expect(modelMessage(() => encode({ data: new Uint8ClampedArray(1) as unknown as Uint8Array }))).toBe(
      "output 'y': cannot tell the datatype of a Uint8ClampedArray; set 'datatype'",
    );
  });

  it('lets NaN through encoding but not into JSON', () => {
    const t = encode({ data: new Float32Array([1, NaN]) });
    const err = errorOf(() => writeJsonData(t, "output 'y'"));
    expect(err.code).toBe(ErrorCode.ModelError);
    expect(err.message).toBe("output 'y' holds NaN or Infinity, which JSON cannot carry; ask for it as binary data");
  });
});
