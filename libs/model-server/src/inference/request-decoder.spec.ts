import type { WireInferenceRequest, WireTensor } from '../codecs/wire-tensor.interface';
import { ErrorCode } from '../errors/error-code.enum';
import { ByteStrings } from '../model/byte-strings';
import type { TensorSpec } from '../model/tensor.interface';
import type { ModelVersion } from '../repository/model-version';
import { decodeRequest } from './request-decoder';
import { errorOf } from '../../../../test/helpers/error-of';

const MiB = 1024 * 1024;

/** The parts of a model version the decoder reads. */
function model(inputs?: TensorSpec[], outputs?: TensorSpec[]): ModelVersion {
  return { label: "'m'", inputs, outputs } as unknown as ModelVersion;
}

function fp32(name: string, n = 1): WireTensor {
  return { name, datatype: 'FP32', shape: [n], data: new Array<number>(n).fill(1) };
}

/** Objects whose `name` counts how often it is read: the work of resolving names, without timing anything. */
function counted<T extends { name: string }>(items: T[], reads: { n: number }): T[] {
  return items.map((item) => {
    const name = item.name;
    const copy = { ...item };
    Object.defineProperty(copy, 'name', { get: () => (reads.n++, name), enumerable: true });
    return copy;
  });
}

describe('decodeRequest', () => {
  it('decodes inputs into typed containers, BYTES into one ByteStrings', () => {
    const wire: WireInferenceRequest = { inputs: [fp32('x', 2), { name: 's', datatype: 'BYTES', shape: [2], data: ['a', 'é'] }] };
    const request = decodeRequest(wire, 'id', model(), 'infer', MiB);
    expect(request.inputs[0].data).toEqual(new Float32Array([1, 1]));
    expect(request.inputs[1].data).toBeInstanceOf(ByteStrings);
    expect((request.inputs[1].data as ByteStrings).toStrings()).toEqual(['a', 'é']);
  });

  it('resolves 16k inputs against as many declared ones by name in linear work (64k froze the loop for seconds)', () => {
    const n = 16_384;
    const names = Array.from({ length: n }, (_, i) => `in-${i}`);
    const reads = { n: 0 };
    const specs = counted(names.map((name): TensorSpec => ({ name, datatype: 'FP32', shape: [1] })), reads);
    const request = decodeRequest({ inputs: names.map((name) => fp32(name)) }, 'id', model(specs), 'infer', 64 * MiB);
    expect(request.inputs).toHaveLength(n);
    expect(reads.n).toBeLessThan(4 * n);
  });

  it('finds a duplicate among many inputs and a missing declared input, naming them (400)', () => {
    const inputs = Array.from({ length: 5000 }, (_, i) => fp32(`in-${i}`));
    const dup = errorOf(() => decodeRequest({ inputs: [...inputs, fp32('in-4321')] }, 'id', model(), 'infer', MiB));
    expect(dup).toMatchObject({ code: ErrorCode.InvalidRequest, message: "input 'in-4321' appears twice" });
    const specs: TensorSpec[] = [...inputs.map((t) => ({ name: t.name, datatype: 'FP32' as const, shape: [1] })), { name: 'last', datatype: 'FP32', shape: [1] }];
    const missing = errorOf(() => decodeRequest({ inputs }, 'id', model(specs), 'infer', MiB));
    expect(missing.code).toBe(ErrorCode.InvalidRequest);
    expect(missing.message).toMatch(/^missing input 'last' \(model 'm' takes 'in-0', 'in-1', /);
    expect(missing.message.length).toBeLessThan(1200);
    const optional = specs.map((s) => (s.name === 'last' ? { ...s, parameters: { optional: true } } : s));
    expect(decodeRequest({ inputs }, 'id', model(optional), 'infer', MiB).inputs).toHaveLength(5000);
  });

  it('checks 16k requested outputs for duplicates and against the declared ones in linear work', () => {
    const n = 16_384;
    const reads = { n: 0 };
    const requested = counted(Array.from({ length: n }, (_, i) => ({ name: `out-${i}` })), reads);
    const declared = requested.map((r): TensorSpec => ({ name: `out-${r.name.slice(4)}`, datatype: 'FP32', shape: [1] }));
    reads.n = 0;
    decodeRequest({ inputs: [], outputs: requested }, 'id', model(undefined, declared), 'infer', MiB);
    expect(reads.n).toBeLessThan(4 * n);
    const twice = errorOf(() => decodeRequest({ inputs: [], outputs: [...requested, { name: 'out-7' }] }, 'id', model(), 'infer', MiB));
    expect(twice).toMatchObject({ code: ErrorCode.InvalidRequest, message: "output 'out-7' is requested twice" });
    const unknown = errorOf(() => decodeRequest({ inputs: [], outputs: [{ name: 'nope' }] }, 'id', model(undefined, declared), 'infer', MiB));
    expect(unknown.message).toMatch(/^model 'm' has no output 'nope'; its outputs are 'out-0', /);
  });

  it("clips a client's name in every message", () => {
    const long = 'n'.repeat(4 * MiB);
    const err = errorOf(() => decodeRequest({ inputs: [fp32(long), fp32(long)] }, 'id', model(), 'infer', MiB));
    expect(err.message.length).toBeLessThan(300);
    expect(errorOf(() => decodeRequest({ inputs: [fp32(long)] }, 'id', model([]), 'infer', MiB)).message.length).toBeLessThan(300);
  });

  it('takes every input from one budget of maxTensorBytes before allocating it (413)', () => {
    const wire: WireInferenceRequest = { inputs: [fp32('a', 200), fp32('b', 100)] };
    expect(decodeRequest(wire, 'id', model(), 'infer', 1200).inputs).toHaveLength(2);
    const err = errorOf(() => decodeRequest(wire, 'id', model(), 'infer', 1000));
    expect(err).toMatchObject({
      code: ErrorCode.PayloadTooLarge,
      message: "input 'b' would take 400 bytes decoded, over what is left of the request's 1000-byte budget for tensors (maxTensorBytes)",
    });
    const bytes: WireInferenceRequest = { inputs: [{ name: 's', datatype: 'BYTES', shape: [2], data: ['abc', 'de'] }] };
    expect(errorOf(() => decodeRequest(bytes, 'id', model(), 'infer', 12)).message).toMatch(/^input 's' would take 13 bytes decoded/);
    expect(decodeRequest(bytes, 'id', model(), 'infer', 13).inputs).toHaveLength(1);
  });

  it('answers a BYTES shape of 2^32 over a few bytes with a 400, not a crash', () => {
    const raw = Uint8Array.from([1, 0, 0, 0, 0x61]);
    const err = errorOf(() => decodeRequest({ inputs: [{ name: 's', datatype: 'BYTES', shape: [2 ** 32], raw }] }, 'id', model(), 'infer', 128 * MiB));
    expect(err).toMatchObject({ code: ErrorCode.InvalidRequest, message: "input 's': raw BYTES data holds 1 elements, but shape [4294967296] needs 4294967296" });
    const json = errorOf(() => decodeRequest({ inputs: [{ name: 's', datatype: 'BYTES', shape: [2 ** 32], data: ['a'] }] }, 'id', model(), 'infer', 128 * MiB));
    expect(json).toMatchObject({ code: ErrorCode.InvalidRequest, message: "input 's': shape [4294967296] needs 4294967296 elements, got 1" });
  });
});
