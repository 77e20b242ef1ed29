import { ErrorCode } from '../errors/error-code.enum';
import { ByteStrings } from '../model/byte-strings';
import type { Tensor } from '../model/tensor.interface';
import { TensorBudget } from './tensor-budget';
import { decodeTensor } from './tensor.decoder';
import type { WireTensor } from './wire-tensor.interface';
import { errorOf } from '../../../../test/helpers/error-of';

function decode(datatype: string, shape: number[], data: unknown): Tensor {
  return decodeTensor({ name: 'x', datatype, shape, data }, "input 'x'");
}

function clientMessage(fn: () => unknown): string {
  const err = errorOf(fn);
  expect(err.code).toBe(ErrorCode.InvalidRequest);
  return err.message;
}

describe('decodeTensor: datatype, shape and presence checks', () => {
  it('names the tensor and lists the datatypes for an unknown datatype', () => {
    expect(clientMessage(() => decode('FLOAT', [1], [1]))).toBe(
      "input 'x': unknown datatype 'FLOAT'; use one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64, BYTES",
    );
  });

  it('accepts a lower-case datatype and reports the canonical one', () => {
    const t = decode('fp32', [2], [1, 2]);
    expect(t.datatype).toBe('FP32');
    expect(t.data).toEqual(new Float32Array([1, 2]));
  });

  it('keeps name, shape and parameters', () => {
    const t = decodeTensor({ name: 'x', datatype: 'INT32', shape: [1, 2], data: [1, 2], parameters: { a: 1 } }, "input 'x'");
    expect(t).toEqual({ name: 'x', datatype: 'INT32', shape: [1, 2], data: new Int32Array([1, 2]), parameters: { a: 1 } });
  });

  it('rejects a count that does not match the shape', () => {
    expect(clientMessage(() => decode('FP32', [2, 3], [1, 2, 3, 4, 5]))).toBe("input 'x': shape [2,3] needs 6 elements, got 5");
    expect(clientMessage(() => decode('FP32', [2], [[1, 2], [3]]))).toBe("input 'x': shape [2] needs 2 elements, got 3");
    expect(clientMessage(() => decode('FP32', [2], new Float32Array(3)))).toBe("input 'x': shape [2] needs 2 elements, got 3");
  });

  it('rejects negative dimensions', () => {
    expect(clientMessage(() => decode('FP32', [-1], []))).toContain('has -1 at index 0; dimensions must be non-negative integers');
  });

  it('needs exactly one of data and raw', () => {
    expect(clientMessage(() => decodeTensor({ name: 'x', datatype: 'FP32', shape: [1] }, "input 'x'"))).toBe(
      "input 'x': has no 'data'; send its values as 'data' (or as binary data)",
    );
    const both: WireTensor = { name: 'x', datatype: 'UINT8', shape: [1], data: [1], raw: new Uint8Array(1) };
    expect(clientMessage(() => decodeTensor(both, "input 'x'"))).toBe(
      "input 'x': has both 'data' and binary data; send its values only once",
    );
  });

  it('rejects data that is not an array', () => {
    expect(clientMessage(() => decode('FP32', [2], { a: 1 }))).toBe("input 'x': data must be an array of FP32 values, got an object");
    expect(clientMessage(() => decode('FP32', [2], 5))).toBe(
      "input 'x': data must be an array; shape [2] needs 2 elements, got a single value",
    );
  });
});

describe('decodeTensor: layouts', () => {
  it('flattens nested data row-major, the same as flat data', () => {
    const nested = decode('INT32', [2, 3], [[1, 2, 3], [4, 5, 6]]);
    const flat = decode('INT32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(nested.data).toEqual(new Int32Array([1, 2, 3, 4, 5, 6]));
    expect(flat.data).toEqual(nested.data);
    expect(decode('INT32', [2, 2, 1], [[[1], [2]], [[3], [4]]]).data).toEqual(new Int32Array([1, 2, 3, 4]));
  });

  it('decodes scalars (shape []) from a bare value or a one-element array', () => {
    const bare = decode('FP64', [], 2.5);
    expect(bare.shape).toEqual([]);
    expect(bare.data).toEqual(new Float64Array([2.5]));
    expect(decode('FP64', [], [2.5]).data).toEqual(new Float64Array([2.5]));
    expect((decode('BYTES', [], 'hi').data as ByteStrings).toStrings()).toEqual(['hi']);
    expect(decode('BOOL', [1, 1], true).data).toEqual(new Uint8Array([1]));
  });

  it('decodes empty tensors', () => {
    const a = decode('FP32', [0], []);
    expect(a.shape).toEqual([0]);
    expect(a.data).toEqual(new Float32Array(0));
    const b = decode('INT64', [3, 0], [[], [], []]);
    expect(b.shape).toEqual([3, 0]);
    expect(b.data).toEqual(new BigInt64Array(0));
    expect(clientMessage(() => decode('FP32', [3, 0], [1]))).toBe("input 'x': shape [3,0] needs 0 elements, got 1");
  });

  it('uses the datatype’s own typed container without a copy', () => {
    const f = new Float32Array([1, 2]);
    expect(decode('FP32', [2], f).data).toBe(f);
    const i = new BigInt64Array([1n, -1n]);
    expect(decode('INT64', [2], i).data).toBe(i);
    const bytes = ByteStrings.from([Buffer.from('a'), Buffer.from([0xff])]);
    expect(decode('BYTES', [2], bytes).data).toBe(bytes);
  });

  it('converts a typed array of another class with range checks', () => {
    expect(decode('FP32', [2], new Float64Array([0.5, 2])).data).toEqual(new Float32Array([0.5, 2]));
    expect(clientMessage(() => decode('UINT8', [1], new Int32Array([-1])))).toBe(
      "input 'x': value -1 at index 0 is out of range for UINT8 (0..255)",
    );
  });
});

describe('decodeTensor: value checks per datatype', () => {
  const ranges: Array<[string, number | bigint, number | bigint]> = [
    ['UINT8', 0, 255],
    ['UINT16', 0, 65535],
    ['UINT32', 0, 4294967295],
    ['INT8', -128, 127],
    ['INT16', -32768, 32767],
    ['INT32', -2147483648, 2147483647],
    ['INT64', -(2n ** 63n), 2n ** 63n - 1n],
    ['UINT64', 0, 2n ** 64n - 1n],
  ];

  it.each(ranges)('%s accepts its extremes and rejects min-1 / max+1', (dt, min, max) => {
    const data = decode(dt, [2], [min, max]).data as ArrayLike<number | bigint>;
    expect(data[0]).toBe(typeof data[0] === 'bigint' ? BigInt(min) : Number(min));
    expect(data[1]).toBe(typeof data[1] === 'bigint' ? BigInt(max) : Number(max));
    const below = typeof min === 'bigint' ? min - 1n : min - 1;
    const above = typeof max === 'bigint' ? max + 1n : max + 1;
    expect(clientMessage(() => decode(dt, [1], [below]))).toBe(
      `input 'x': value ${below} at index 0 is out of range for ${dt} (${min}..${max})`,
    );
    expect(clientMessage(() => decode(dt, [2], [0, above]))).toBe(
      `input 'x': value ${above} at index 1 is out of range for ${dt} (${min}..${max})`,
    );
  });

  it('never wraps: UINT8 300 is a 400', () => {
    expect(clientMessage(() => decode('UINT8', [3], [1, 2, 300]))).toBe(
      "input 'x': value 300 at index 2 is out of range for UINT8 (0..255)",
    );
  });

  it.each(['UINT8', 'UINT16', 'UINT32', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT64'])('%s rejects non-integers', (dt) => {
    expect(clientMessage(() => decode(dt, [1], [1.5]))).toMatch(
      new RegExp(`^input 'x': value 1\\.5 at index 0 is not an integer; ${dt} takes integers in `),
    );
    expect(clientMessage(() => decode(dt, [1], ['1']))).toMatch(/value "1" at index 0 is not a number/);
    expect(clientMessage(() => decode(dt, [1], [true]))).toMatch(/value true at index 0 is not a number/);
    expect(clientMessage(() => decode(dt, [1], [null]))).toMatch(/value null at index 0 is not a number/);
  });

  it('accepts bigint for small integer types and numbers for 64-bit types', () => {
    expect(decode('INT16', [2], [5n, -7n]).data).toEqual(new Int16Array([5, -7]));
    expect(decode('INT64', [2], [5, -7]).data).toEqual(new BigInt64Array([5n, -7n]));
    expect(decode('UINT64', [1], [Number.MAX_SAFE_INTEGER]).data).toEqual(new BigUint64Array([9007199254740991n]));
  });

  it('rejects 64-bit numbers beyond 2^53 that may have lost digits', () => {
    expect(clientMessage(() => decode('INT64', [1], [2 ** 60]))).toMatch(/value 1152921504606847000 at index 0 is beyond 2\^53/);
    expect(clientMessage(() => decode('INT64', [1], [2 ** 63]))).toMatch(/is out of range for INT64/);
  });

  it('BOOL takes true/false and 0/1, nothing else', () => {
    expect(decode('BOOL', [4], [true, false, 1, 0]).data).toEqual(new Uint8Array([1, 0, 1, 0]));
    expect(clientMessage(() => decode('BOOL', [1], [2]))).toBe(
      "input 'x': value 2 at index 0 is not a boolean; BOOL takes true or false (0 or 1 accepted)",
    );
    expect(clientMessage(() => decode('BOOL', [1], ['true']))).toMatch(/value "true" at index 0 is not a boolean/);
  });

  it('FP32 keeps its extremes and denormals, rejects finite overflow', () => {
    const t = decode('FP32', [4], [3.4028234663852886e38, 3.4028235e38, 1.401298464324817e-45, -0]);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data as Float32Array)).toEqual([3.4028234663852886e38, 3.4028234663852886e38, 1.401298464324817e-45, -0]);
    expect(Object.is((t.data as Float32Array)[3], -0)).toBe(true);
    expect(clientMessage(() => decode('FP32', [1], [3.5e38]))).toBe(
      "input 'x': value 3.5e+38 at index 0 is out of range for FP32 (largest finite magnitude 3.4028234663852886e+38)",
    );
    expect(clientMessage(() => decode('FP32', [1], [1e308]))).toMatch(/out of range for FP32/);
  });

  it('FP16 accepts 65504, rejects 65520, and rounds to half precision', () => {
    const t = decode('FP16', [3], [65504, 0.1, -65504]);
    expect(Array.from(t.data as Float32Array)).toEqual([65504, 0.0999755859375, -65504]);
    expect(clientMessage(() => decode('FP16', [1], [65520]))).toBe(
      "input 'x': value 65520 at index 0 is out of range for FP16 (largest finite magnitude 65504)",
    );
    expect(clientMessage(() => decode('FP16', [1], [-70000]))).toMatch(/out of range for FP16/);
  });

  it('BF16 rounds to bfloat16 and rejects overflow', () => {
    const t = decode('BF16', [3], [1, 0.1, 3.3895313892515355e38]);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 0.10009765625, 3.3895313892515355e38]);
    expect(clientMessage(() => decode('BF16', [1], [3.4e38]))).toBe(
      "input 'x': value 3.4e+38 at index 0 is out of range for BF16 (largest finite magnitude 3.3895313892515355e+38)",
    );
  });

  it('float types accept bigint and reject non-numbers', () => {
    expect(decode('FP64', [1], [2n ** 60n]).data).toEqual(new Float64Array([2 ** 60]));
    expect(decode('FP32', [1], [3n]).data).toEqual(new Float32Array([3]));
    expect(clientMessage(() => decode('FP64', [1], ['1.5']))).toBe(
      'input \'x\': value "1.5" at index 0 is not a number; FP64 takes numbers',
    );
    expect(clientMessage(() => decode('FP16', [1], [false]))).toMatch(/not a number; FP16 takes numbers/);
  });

  it('BYTES turns strings (UTF-8) and byte arrays into one compact ByteStrings', () => {
    const t = decode('BYTES', [3], ['héllo', Buffer.from([0xff, 0x00]), new Uint8Array([1, 2])]);
    const data = t.data as ByteStrings;
    expect(data).toBeInstanceOf(ByteStrings);
    expect(data.at(0)).toEqual(Buffer.from([0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]));
    expect(data.at(1)).toEqual(Buffer.from([0xff, 0x00]));
    expect(Buffer.isBuffer(data.at(2))).toBe(true);
    expect(data.at(2)).toEqual(Buffer.from([1, 2]));
    expect(data.bytes.length).toBe(10); // one buffer for all three
    expect(decode('BYTES', [2], ['', 'a']).data).toMatchObject({ offsets: new Uint32Array([0, 0, 1]) });
    expect(clientMessage(() => decode('BYTES', [1], [5]))).toBe(
      "input 'x': value 5 at index 0 is not a string; BYTES takes strings (or Buffers)",
    );
  });
});

describe('decodeTensor: bounds', () => {
  it.each(['FP16', 'BF16', 'FP32', 'FP64'])('%s refuses non-finite plain values (1e999 reads as Infinity) with a 400', (dt) => {
    expect(clientMessage(() => decode(dt, [2], [1, Infinity]))).toBe(
      `input 'x': value Infinity at index 1 is not a finite number; ${dt} takes finite numbers here (send NaN and infinities as binary data)`,
    );
    expect(clientMessage(() => decode(dt, [1], [-Infinity]))).toMatch(/value -Infinity at index 0 is not a finite number/);
    expect(clientMessage(() => decode(dt, [1], [NaN]))).toMatch(/value NaN at index 0 is not a finite number/);
  });

  it('still carries NaN and infinities that arrive as binary data or as a typed array', () => {
    const raw = new Uint8Array(new Float32Array([NaN, Infinity]).buffer);
    const t = decodeTensor({ name: 'x', datatype: 'FP32', shape: [2], raw }, "input 'x'");
    expect(Array.from(t.data as Float32Array)).toEqual([NaN, Infinity]);
    expect(Array.from(decode('FP32', [2], new Float64Array([NaN, -Infinity])).data as Float32Array)).toEqual([NaN, -Infinity]);
  });

  it('refuses a bigint beyond FP32 as out of range rather than storing Infinity', () => {
    expect(clientMessage(() => decode('FP32', [1], [10n ** 400n]))).toMatch(/at index 0 is out of range for FP32/);
  });

  it('takes the decoded size from the budget before allocating: elements × size, BYTES bytes + 4 each (413)', () => {
    const budget = new TensorBudget(100);
    decodeTensor({ name: 'x', datatype: 'FP64', shape: [10], data: new Array(10).fill(0) }, "input 'x'", budget);
    expect(budget.remaining).toBe(20);
    const err = errorOf(() => decodeTensor({ name: 'y', datatype: 'BYTES', shape: [2], data: ['abcdefghijk', 'gh'] }, "input 'y'", budget));
    expect(err.code).toBe(ErrorCode.PayloadTooLarge);
    expect(err.message).toBe("input 'y' would take 21 bytes decoded, over what is left of the request's 100-byte budget for tensors (maxTensorBytes)");
    const container = ByteStrings.from(['abcdefghijklmnopq']);
    expect(errorOf(() => decodeTensor({ name: 'z', datatype: 'BYTES', shape: [1], data: container }, "input 'z'", budget)).code).toBe(ErrorCode.PayloadTooLarge);
    expect(errorOf(() => decodeTensor({ name: 'r', datatype: 'INT32', shape: [6], raw: new Uint8Array(24) }, "input 'r'", budget)).code).toBe(ErrorCode.PayloadTooLarge);
    decodeTensor({ name: 'w', datatype: 'INT32', shape: [5], raw: new Uint8Array(20) }, "input 'w'", budget);
    expect(budget.remaining).toBe(0);
  });
});
