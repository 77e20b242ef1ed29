import { DATATYPES } from '../model/datatype';
import { datatypeOfTypedArray, elementSize, normalizeDatatype } from './datatype.util';

describe('normalizeDatatype', () => {
  it('accepts every datatype in upper case', () => {
    for (const dt of DATATYPES) expect(normalizeDatatype(dt)).toBe(dt);
  });

  it('accepts lower case as leniency', () => {
    expect(normalizeDatatype('fp32')).toBe('FP32');
    expect(normalizeDatatype('bytes')).toBe('BYTES');
    expect(normalizeDatatype('bf16')).toBe('BF16');
  });

  it('rejects mixed case, unknown names and non-strings', () => {
    expect(normalizeDatatype('Fp32')).toBeUndefined();
    expect(normalizeDatatype('FLOAT')).toBeUndefined();
    expect(normalizeDatatype('')).toBeUndefined();
    expect(normalizeDatatype(32)).toBeUndefined();
    expect(normalizeDatatype(undefined)).toBeUndefined();
  });
});

describe('elementSize', () => {
  it('gives the wire bytes per element', () => {
    expect(elementSize('BOOL')).toBe(1);
    expect(elementSize('UINT8')).toBe(1);
    expect(elementSize('INT8')).toBe(1);
    expect(elementSize('UINT16')).toBe(2);
    expect(elementSize('INT16')).toBe(2);
    expect(elementSize('FP16')).toBe(2);
    expect(elementSize('BF16')).toBe(2);
    expect(elementSize('UINT32')).toBe(4);
    expect(elementSize('INT32')).toBe(4);
    expect(elementSize('FP32')).toBe(4);
    expect(elementSize('UINT64')).toBe(8);
    expect(elementSize('INT64')).toBe(8);
    expect(elementSize('FP64')).toBe(8);
    expect(elementSize('BYTES')).toBe(0);
  });
});

describe('datatypeOfTypedArray', () => {
  it('maps each typed array class to its datatype', () => {
    expect(datatypeOfTypedArray(new Float32Array(1))).toBe('FP32');
    expect(datatypeOfTypedArray(new Float64Array(1))).toBe('FP64');
    expect(datatypeOfTypedArray(new Int8Array(1))).toBe('INT8');
    expect(datatypeOfTypedArray(new Int16Array(1))).toBe('INT16');
    expect(datatypeOfTypedArray(new Int32Array(1))).toBe('INT32');
    expect(datatypeOfTypedArray(new BigInt64Array(1))).toBe('INT64');
    expect(datatypeOfTypedArray(new Uint8Array(1))).toBe('UINT8');
    expect(datatypeOfTypedArray(Buffer.from([1]))).toBe('UINT8');
    expect(datatypeOfTypedArray(new Uint16Array(1))).toBe('UINT16');
    expect(datatypeOfTypedArray(new Uint32Array(1))).toBe('UINT32');
    expect(datatypeOfTypedArray(new BigUint64Array(1))).toBe('UINT64');
  });

  it('gives undefined for anything else', () => {
    expect(datatypeOfTypedArray([1, 2])).toBeUndefined();
    expect(datatypeOfTypedArray(new Uint8ClampedArray(1))).toBeUndefined();
    expect(datatypeOfTypedArray(new DataView(new ArrayBuffer(4)))).toBeUndefined();
    expect(datatypeOfTypedArray(null)).toBeUndefined();
  });
});
