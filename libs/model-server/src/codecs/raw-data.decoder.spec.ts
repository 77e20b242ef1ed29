import { ErrorCode } from '../errors/error-code.enum';
import { ByteStrings } from '../model/byte-strings';
import type { Tensor } from '../model/tensor.interface';
import { tensorToRaw } from './raw-data.encoder';
import { alignLargeRawData } from './raw-data.decoder';
import { decodeDeferredData } from './deferred-data.decoder';
import { TensorBudget } from './tensor-budget';
import { decodeTensor } from './tensor.decoder';
import type { WireInferenceRequest } from './wire-tensor.interface';
import { ModelServerError } from '../errors/model-server.error';
import { errorOf } from '../../../../test/helpers/error-of';

function decodeRaw(datatype: string, shape: number[], raw: Uint8Array): Tensor {
  return decodeTensor({ name: 'x', datatype, shape, raw }, "input 'x'");
}

function clientMessage(fn: () => unknown): string {
  const err = errorOf(fn);
  expect(err.code).toBe(ErrorCode.InvalidRequest);
  return err.message;
}

/** `bytes` placed at `offset` inside a larger buffer, as a view. */
function at(offset: number, bytes: number[]): Uint8Array {
  const backing = new Uint8Array(offset + bytes.length + 3);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.length);
}

describe('decodeTensor from raw little-endian bytes', () => {
  it('decodes each numeric datatype from known bytes and writes the same bytes back', () => {
    const cases: Array<[string, number[], unknown[]]> = [
      ['UINT8', [0, 255], [0, 255]],
      ['INT8', [0x80, 0x7f], [-128, 127]],
      ['UINT16', [0xff, 0xff, 0x01, 0x00], [65535, 1]],
      ['INT16', [0x00, 0x80, 0xfe, 0xff], [-32768, -2]],
      ['UINT32', [0xff, 0xff, 0xff, 0xff], [4294967295]],
      ['INT32', [0xfe, 0xff, 0xff, 0xff], [-2]],
      ['UINT64', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [18446744073709551615n]],
      ['INT64', [0, 0, 0, 0, 0, 0, 0, 0x80], [-9223372036854775808n]],
      ['FP32', [0x00, 0x00, 0x80, 0x3f, 0x01, 0x00, 0x00, 0x00], [1, 1.401298464324817e-45]],
      ['FP64', [0, 0, 0, 0, 0, 0, 0xf0, 0x3f], [1]],
      ['FP16', [0x00, 0x3c, 0xff, 0x7b, 0x00, 0x7c, 0x00, 0x80], [1, 65504, Infinity, -0]],
      ['BF16', [0x80, 0x3f, 0xc0, 0x7f], [1, NaN]],
      ['BOOL', [1, 0, 1], [1, 0, 1]],
    ];
    for (const [dt, bytes, values] of cases) {
      const t = decodeRaw(dt, [values.length], Uint8Array.from(bytes));
      expect([dt, Array.from(t.data as ArrayLike<unknown>)]).toEqual([dt, values]);
      expect([dt, Array.from(tensorToRaw(t))]).toEqual([dt, bytes]);
    }
  });

  it('views aligned memory without copying and copies unaligned memory', () => {
    const aligned = at(8, [0, 0, 0, 0, 0, 0, 0x04, 0x40]);
    const a = decodeRaw('FP64', [1], aligned);
    expect(a.data).toEqual(new Float64Array([2.5]));
    expect((a.data as Float64Array).buffer).toBe(aligned.buffer);

    const unaligned = at(3, [0, 0, 0, 0, 0, 0, 0x04, 0x40]);
    const u = decodeRaw('FP64', [1], unaligned);
    expect(u.data).toEqual(new Float64Array([2.5]));
    expect((u.data as Float64Array).buffer).not.toBe(unaligned.buffer);

    expect(decodeRaw('INT32', [2], at(1, [1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])).data).toEqual(new Int32Array([1, -1]));
    expect(decodeRaw('UINT64', [1], at(5, [1, 0, 0, 0, 0, 0, 0, 0])).data).toEqual(new BigUint64Array([1n]));
    expect(decodeRaw('FP16', [1], at(1, [0x00, 0x3c])).data).toEqual(new Float32Array([1]));
  });

  it('turns any nonzero BOOL byte into 1', () => {
    expect(decodeRaw('BOOL', [3], Uint8Array.from([0, 7, 255])).data).toEqual(new Uint8Array([0, 1, 1]));
  });

  it('rejects a size that does not match the shape, naming both sizes', () => {
    expect(clientMessage(() => decodeRaw('FP32', [2, 3], new Uint8Array(20)))).toBe(
      "input 'x': raw data has 20 bytes, but shape [2,3] of FP32 needs 24 (6 elements × 4 bytes)",
    );
    expect(clientMessage(() => decodeRaw('INT64', [1], new Uint8Array(9)))).toMatch(/has 9 bytes, but shape \[1\] of INT64 needs 8/);
  });

  it('decodes empty raw tensors', () => {
    expect(decodeRaw('FP32', [3, 0], new Uint8Array(0)).data).toEqual(new Float32Array(0));
    expect((decodeRaw('BYTES', [0], new Uint8Array(0)).data as ByteStrings).length).toBe(0);
  });

  it('splits length-prefixed BYTES into one compact ByteStrings, keeping non-UTF-8 bytes', () => {
    const raw = Uint8Array.from([2, 0, 0, 0, 0xff, 0xfe, 0, 0, 0, 0, 3, 0, 0, 0, 0x61, 0x00, 0x80]);
    const t = decodeRaw('BYTES', [3], raw);
    const data = t.data as ByteStrings;
    expect(data).toBeInstanceOf(ByteStrings);
    expect(data.toArray().map((b) => Array.from(b))).toEqual([[0xff, 0xfe], [], [0x61, 0x00, 0x80]]);
    expect([...data.bytes]).toEqual([0xff, 0xfe, 0x61, 0x00, 0x80]); // the lengths are gone: offsets hold them
    expect([...data.offsets]).toEqual([0, 2, 2, 5]);
    expect(Array.from(tensorToRaw(t))).toEqual(Array.from(raw));
  });

  it('copies long elements whole and keeps them apart', () => {
    const long = Buffer.alloc(100, 0x61);
    const raw = Buffer.concat([Buffer.from([100, 0, 0, 0]), long, Buffer.from([1, 0, 0, 0, 0x62])]);
    const data = decodeRaw('BYTES', [2], raw).data as ByteStrings;
    expect(data.toStrings()).toEqual(['a'.repeat(100), 'b']);
  });

  it('refuses a shape of 2^32 BYTES over a few bytes with a 400, allocating nothing for it', () => {
    expect(clientMessage(() => decodeRaw('BYTES', [2 ** 32], Uint8Array.from([1, 0, 0, 0, 9])))).toBe(
      "input 'x': raw BYTES data holds 1 elements, but shape [4294967296] needs 4294967296",
    );
    expect(clientMessage(() => decodeRaw('BYTES', [2 ** 16, 2 ** 16], new Uint8Array(0)))).toBe(
      "input 'x': raw BYTES data holds 0 elements, but shape [65536,65536] needs 4294967296",
    );
  });

  it('refuses an element whose length lies (past the end, or leaving bytes over) with a 400', () => {
    const lying = Uint8Array.from([1, 0, 0, 0, 0x61, 0xff, 0xff, 0xff, 0x7f, 0x62]);
    expect(clientMessage(() => decodeRaw('BYTES', [2], lying))).toBe("input 'x': raw BYTES element 1 declares 2147483647 bytes, but only 1 remain");
    const short = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0x61]);
    expect(clientMessage(() => decodeRaw('BYTES', [2], short))).toBe(
      "input 'x': raw BYTES data has 1 bytes left over after the 2 elements shape [2] needs",
    );
  });

  it('rejects malformed BYTES framing', () => {
    expect(clientMessage(() => decodeRaw('BYTES', [1], Uint8Array.from([5, 0, 0, 0, 1, 2])))).toBe(
      "input 'x': raw BYTES element 0 declares 5 bytes, but only 2 remain",
    );
    expect(clientMessage(() => decodeRaw('BYTES', [1], Uint8Array.from([1, 0, 0, 0, 9, 7])))).toBe(
      "input 'x': raw BYTES data has 1 bytes left over after the 1 elements shape [1] needs",
    );
    expect(clientMessage(() => decodeRaw('BYTES', [2], Uint8Array.from([1, 0, 0, 0, 9])))).toBe(
      "input 'x': raw BYTES data holds 1 elements, but shape [2] needs 2",
    );
    expect(clientMessage(() => decodeRaw('BYTES', [2], Uint8Array.from([1, 0, 0, 0, 9, 1, 0])))).toBe(
      "input 'x': raw BYTES element 1 has a truncated 4-byte length (2 bytes left)",
    );
    expect(clientMessage(() => decodeRaw('BYTES', [1], Uint8Array.from([0xff, 0xff, 0xff, 0xff])))).toMatch(
      /declares 4294967295 bytes, but only 0 remain/,
    );
  });

  it('rejects raw data that is not bytes', () => {
    const wire = { name: 'x', datatype: 'FP32', shape: [1], raw: [0, 0, 0, 0] as unknown as Uint8Array };
    expect(clientMessage(() => decodeTensor(wire, "input 'x'"))).toBe("input 'x': binary data must be bytes, got an array");
  });
});

describe('tensorToRaw', () => {
  it('views numeric typed arrays without copying', () => {
    const data = new Float32Array([1, 2, 3]);
    const raw = tensorToRaw({ name: 'y', datatype: 'FP32', shape: [3], data });
    expect(raw.buffer).toBe(data.buffer);
    expect(raw.byteLength).toBe(12);
    expect(Array.from(raw.subarray(0, 4))).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });

  it('writes BF16 and FP16 as 16-bit halves', () => {
    const bf = tensorToRaw({ name: 'y', datatype: 'BF16', shape: [2], data: new Float32Array([1, -2]) });
    expect(Array.from(bf)).toEqual([0x80, 0x3f, 0x00, 0xc0]);
    const half = tensorToRaw({ name: 'y', datatype: 'FP16', shape: [2], data: new Float32Array([0.5, -0]) });
    expect(Array.from(half)).toEqual([0x00, 0x38, 0x00, 0x80]);
  });

  it('writes BOOL as 0/1 bytes and BYTES length-prefixed', () => {
    const b = tensorToRaw({ name: 'y', datatype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 5]) });
    expect(Array.from(b)).toEqual([1, 0, 1]);
    const s = tensorToRaw({ name: 'y', datatype: 'BYTES', shape: [2], data: ByteStrings.from([Buffer.from('ab'), Buffer.alloc(0)]) });
    expect(Array.from(s)).toEqual([2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0]);
    const long = tensorToRaw({ name: 'y', datatype: 'BYTES', shape: [1], data: ByteStrings.from(['x'.repeat(40)]).slice(0) });
    expect(Buffer.from(long).toString('latin1')).toBe('(\0\0\0' + 'x'.repeat(40));
  });
});

describe('alignLargeRawData', () => {
  it('copies a large unaligned FP32 input to aligned memory in slices, values unchanged, and leaves the rest alone', async () => {
    const count = 2 * 1024 * 1024; // 8 MiB of FP32, past the size copied at once when decoded
    const values = Float32Array.from({ length: count }, (_, i) => i * 0.5);
    const body = Buffer.alloc(1 + values.byteLength);
    Buffer.from(values.buffer).copy(body, 1);
    const unaligned = body.subarray(1);
    const small = Buffer.alloc(9).subarray(1);
    const wire = {
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [count], raw: unaligned },
        { name: 'y', datatype: 'FP32', shape: [2], raw: small },
        { name: 'z', datatype: 'UINT8', shape: [unaligned.length], raw: unaligned },
      ],
    };
    const pending = alignLargeRawData(wire);
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    expect(wire.inputs[0].raw.byteOffset % 4).toBe(0);
    expect(wire.inputs[0].raw).not.toBe(unaligned);
    expect(wire.inputs[1].raw).toBe(small);
    expect(wire.inputs[2].raw).toBe(unaligned);
    const decoded = decodeTensor(wire.inputs[0], 'input x') as { data: Float32Array };
    expect(decoded.data).toEqual(values);
    expect(alignLargeRawData(wire)).toBeUndefined();
  });
});

/** Length-prefixed BYTES elements: mostly one byte, every 97th `long` bytes (copied whole), every 89th empty. */
function rawStrings(count: number, long = 40): Buffer {
  let size = 0;
  for (let i = 0; i < count; i++) size += 4 + elementLength(i, long);
  const raw = Buffer.allocUnsafe(size);
  let p = 0;
  for (let i = 0; i < count; i++) {
    const len = elementLength(i, long);
    raw.writeUInt32LE(len, p);
    raw.fill(i & 0xff, p + 4, p + 4 + len);
    p += 4 + len;
  }
  return raw;
}

function elementLength(i: number, long: number): number {
  return i % 97 === 0 ? long : i % 89 === 0 ? 0 : 1;
}

/** The error `promise` rejects with (failing the test when it resolves or rejects with something else). */
async function rejection(promise: unknown): Promise<ModelServerError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ModelServerError) return err;
    throw err;
  }
  throw new Error('expected a ModelServerError');
}

describe('large raw BYTES, split in slices before the request is decoded', () => {
  const bigBudget = (): TensorBudget => new TensorBudget(2 ** 40);
  const request = (raw: Uint8Array, shape: number[]): WireInferenceRequest => ({ inputs: [{ name: 'x', datatype: 'BYTES', shape, raw }] });

  it('yields to the event loop while splitting, then decodes to the same ByteStrings as the decode at once', async () => {
    const count = 8 * 1024 * 1024;
    const raw = rawStrings(count);
    const atOnce = decodeRaw('BYTES', [count], raw).data as ByteStrings;
    const wire = request(raw, [count]);
    let turns = 0;
    let probing = true;
    const probe = (): void => {
      turns++;
      if (probing) setImmediate(probe);
    };
    setImmediate(probe);
    const pending = decodeDeferredData(wire, bigBudget());
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    probing = false;
    expect(turns).toBeGreaterThan(1); // the loop ran between slices, not only before the first
    const input = wire.inputs[0];
    expect(input.data).toBeUndefined(); // still binary data, the same bytes (monitoring logs their size)
    expect(input.raw!.byteLength).toBe(raw.length);
    expect(Buffer.from(input.raw!.buffer, input.raw!.byteOffset, input.raw!.byteLength).equals(raw)).toBe(true);
    const split = decodeTensor(input, "input 'x'").data as ByteStrings;
    expect(split.length).toBe(count);
    expect(Buffer.from(split.offsets.buffer, split.offsets.byteOffset, split.offsets.byteLength).equals(Buffer.from(atOnce.offsets.buffer, atOnce.offsets.byteOffset, atOnce.offsets.byteLength))).toBe(true);
    expect(split.bytes.equals(atOnce.bytes)).toBe(true);
    expect(split.sizeOf(97)).toBe(40);
  });

  it('refuses malformed data with the 400 the decode at once gives, wherever the fault is', async () => {
    const count = 400_000;
    const good = rawStrings(count);
    const faults: Array<[string, number[], Buffer]> = [
      ['first length too long', [count], patched(good, 0, 2 ** 31)],
      ['four bytes in the middle overwritten', [count], patched(good, 750_123, 1000)],
      ['the last length past the end', [count], patched(good, good.length - 5, 2)],
      ['a byte left over', [count], Buffer.concat([good, Buffer.from([7])])],
      ['a truncated last length', [count + 1], Buffer.concat([good, Buffer.from([1, 0])])],
      ['an element short', [count + 1], good],
      ['too few bytes for the shape', [good.length], good],
    ];
    for (const [fault, shape, raw] of faults) {
      expect(raw.length).toBeGreaterThan(1024 * 1024); // past the size split at once
      const atOnce = errorOf(() => decodeRaw('BYTES', shape, raw));
      expect([fault, atOnce.code]).toEqual([fault, ErrorCode.InvalidRequest]);
      const sliced = await rejection(decodeDeferredData(request(raw, shape), bigBudget()));
      expect([fault, sliced.code, sliced.message]).toEqual([fault, atOnce.code, atOnce.message]);
    }
  });

  it('takes the same share of the tensor budget, refusing past it before allocating', async () => {
    const count = 400_000;
    const raw = rawStrings(count);
    const small = new TensorBudget(raw.length - 1);
    const atOnce = errorOf(() => decodeTensor({ name: 'x', datatype: 'BYTES', shape: [count], raw }, "input 'x'", new TensorBudget(raw.length - 1)));
    const sliced = await rejection(decodeDeferredData(request(raw, [count]), small));
    expect([sliced.code, sliced.message]).toEqual([atOnce.code, atOnce.message]);
    const exact = new TensorBudget(raw.length);
    await decodeDeferredData(request(raw, [count]), exact);
    expect(exact.remaining).toBe(0);
  });

  it('leaves small raw BYTES to the decode at once', () => {
    const raw = rawStrings(1000);
    expect(decodeDeferredData(request(raw, [1000]), bigBudget())).toBeUndefined();
  });
});

/** `raw` with the 4-byte length at `at` set to `value`. */
function patched(raw: Buffer, at: number, value: number): Buffer {
  const copy = Buffer.from(raw);
  copy.writeUInt32LE(value, at);
  return copy;
}
