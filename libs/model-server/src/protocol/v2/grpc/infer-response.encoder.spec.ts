import * as protobuf from 'protobufjs';
import { ErrorCode } from '../../../errors/error-code.enum';
import type { ModelServerError } from '../../../errors/model-server.error';
import { ByteStrings } from '../../../model/byte-strings';
import type { InferenceResponse } from '../../../model/inference.interface';
import type { Tensor } from '../../../model/tensor.interface';
import { GRPC_PREDICT_V2_PROTO } from './grpc-service.definition';
import { encodeInferResponse, encodeStreamError, needsRawResponse } from './infer-response.encoder';

const root = new protobuf.Root().loadSync(GRPC_PREDICT_V2_PROTO, { keepCase: true });
const Response = root.lookupType('inference.ModelInferResponse');
const StreamResponse = root.lookupType('inference.ModelStreamInferResponse');
const asObject = (type: protobuf.Type, bytes: Buffer) => type.toObject(type.decode(bytes), { longs: String, oneofs: true, arrays: true }) as Record<string, any>;

const encode = async (r: InferenceResponse, raw: boolean, wrapField = 0): Promise<Buffer> => encodeInferResponse(r, raw, 64 * 1024 * 1024, wrapField);
const response = (outputs: Tensor[], extra: Partial<InferenceResponse> = {}): InferenceResponse => ({ model_name: 'm', id: 'r', outputs, ...extra });

describe('encodeInferResponse', () => {
  it('writes every datatype in its typed contents field, decodable by a stock protobuf, 64-bit exact', async () => {
    const outputs: Tensor[] = [
      { name: 'bool', datatype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 2]) },
      { name: 'i8', datatype: 'INT8', shape: [2], data: new Int8Array([-128, 127]) },
      { name: 'i32', datatype: 'INT32', shape: [2], data: new Int32Array([-2147483648, 2147483647]) },
      { name: 'u16', datatype: 'UINT16', shape: [1], data: new Uint16Array([65535]) },
      { name: 'u32', datatype: 'UINT32', shape: [1], data: new Uint32Array([4294967295]) },
      { name: 'i64', datatype: 'INT64', shape: [3], data: new BigInt64Array([-(2n ** 63n), -1n, 2n ** 63n - 1n]) },
      { name: 'u64', datatype: 'UINT64', shape: [2], data: new BigUint64Array([0n, 2n ** 64n - 1n]) },
      { name: 'f32', datatype: 'FP32', shape: [2, 1], data: new Float32Array([1.5, -0.25]) },
      { name: 'f64', datatype: 'FP64', shape: [], data: new Float64Array([Math.E]) },
      { name: 'str', datatype: 'BYTES', shape: [2], data: ByteStrings.from(['é', '']) },
      { name: 'empty', datatype: 'FP32', shape: [0, 4], data: new Float32Array(0) },
    ];
    const decoded = asObject(Response, await encode(response(outputs, { model_version: '3' }), false));
    expect([decoded.model_name, decoded.model_version, decoded.id]).toEqual(['m', '3', 'r']);
    const by = Object.fromEntries(decoded.outputs.map((o: { name: string }) => [o.name, o]));
    expect(by.bool.contents.bool_contents).toEqual([true, false, true]);
    expect(by.i8.contents.int_contents).toEqual([-128, 127]);
    expect(by.i32.contents.int_contents).toEqual([-2147483648, 2147483647]);
    expect(by.u16.contents.uint_contents).toEqual([65535]);
    expect(by.u32.contents.uint_contents).toEqual([4294967295]);
    expect(by.i64.contents.int64_contents).toEqual(['-9223372036854775808', '-1', '9223372036854775807']);
    expect(by.u64.contents.uint64_contents).toEqual(['0', '18446744073709551615']);
    expect([by.f32.shape, by.f32.contents.fp32_contents]).toEqual([['2', '1'], [1.5, -0.25]]);
    expect([by.f64.shape, by.f64.contents.fp64_contents]).toEqual([[], [Math.E]]);
    expect(by.str.contents.bytes_contents.map((b: Uint8Array) => Buffer.from(b).toString())).toEqual(['é', '']);
    expect([by.empty.shape, by.empty.contents]).toEqual([['0', '4'], undefined]);
    expect(decoded.raw_output_contents).toEqual([]);
  });

  it('writes raw_output_contents in output order (BYTES length-prefixed, FP16 as halves) and no contents', async () => {
    const outputs: Tensor[] = [
      { name: 'h', datatype: 'FP16', shape: [1], data: new Float32Array([1]) },
      { name: 's', datatype: 'BYTES', shape: [1], data: ByteStrings.from(['ab']) },
      { name: 'e', datatype: 'INT32', shape: [0], data: new Int32Array(0) },
    ];
    const r = response(outputs);
    expect(needsRawResponse(r, false)).toBe(true);
    const decoded = asObject(Response, await encode(r, true));
    expect(decoded.outputs.every((o: { contents?: unknown }) => o.contents === undefined)).toBe(true);
    expect(decoded.raw_output_contents.map((b: Uint8Array) => [...b])).toEqual([[0x00, 0x3c], [2, 0, 0, 0, 0x61, 0x62], []]);
  });

  it('writes a raw entry larger than one copy in pieces, and the entries after it where they belong', async () => {
    // 1 MiB of FP32: over the 256 KB a raw entry is copied in at once.
    const big = new Float32Array(256 * 1024).map((_, i) => i * 0.5);
    const outputs: Tensor[] = [
      { name: 'small', datatype: 'INT32', shape: [2], data: new Int32Array([-1, 7]) },
      { name: 'big', datatype: 'FP32', shape: [big.length], data: big },
      { name: 's', datatype: 'BYTES', shape: [2], data: ByteStrings.from(['x', 'yz']) },
      { name: 'after', datatype: 'UINT8', shape: [3], data: new Uint8Array([1, 2, 3]) },
    ];
    const decoded = asObject(Response, await encode(response(outputs), true));
    const raw = decoded.raw_output_contents.map((b: Uint8Array) => Buffer.from(b));
    expect(raw[0]).toEqual(Buffer.from(new Int32Array([-1, 7]).buffer));
    expect(raw[1].equals(Buffer.from(big.buffer))).toBe(true);
    expect([...raw[2]]).toEqual([1, 0, 0, 0, 0x78, 2, 0, 0, 0, 0x79, 0x7a]);
    expect([...raw[3]]).toEqual([1, 2, 3]);
  });

  it('encodes parameters of every kind on the response and on outputs', async () => {
    const r = response([{ name: 'y', datatype: 'FP32', shape: [1], data: new Float32Array([1]), parameters: { unit: 'cm' } }], {
      parameters: { b: false, n: -5, big: -(2n ** 63n), huge: 2n ** 64n - 1n, d: 2.5, s: 'x', o: { a: 1 } },
    });
    const decoded = asObject(Response, await encode(r, false));
    const value = (p: Record<string, unknown>) => p[p.parameter_choice as string];
    const params = Object.fromEntries(Object.entries(decoded.parameters).map(([k, v]) => [k, [(v as { parameter_choice: string }).parameter_choice, value(v as Record<string, unknown>)]]));
    expect(params).toEqual({
      b: ['bool_param', false],
      n: ['int64_param', '-5'],
      big: ['int64_param', '-9223372036854775808'],
      huge: ['uint64_param', '18446744073709551615'],
      d: ['double_param', 2.5],
      s: ['string_param', 'x'],
      o: ['string_param', '{"a":1}'],
    });
    expect(decoded.outputs[0].parameters.unit.string_param).toBe('cm');
  });

  it('wraps the response as ModelStreamInferResponse.infer_response, and encodes stream errors', async () => {
    const r = response([{ name: 'y', datatype: 'INT32', shape: [1], data: new Int32Array([7]) }]);
    const ok = asObject(StreamResponse, await encode(r, false, 2));
    expect(ok.error_message ?? '').toBe('');
    expect(ok.infer_response.outputs[0].contents.int_contents).toEqual([7]);
    const failed = asObject(StreamResponse, encodeStreamError('model gone', 'm', '1', 'r9'));
    expect([failed.error_message, failed.infer_response.model_name, failed.infer_response.model_version, failed.infer_response.id]).toEqual(['model gone', 'm', '1', 'r9']);
    expect(failed.infer_response.parameters ?? {}).toEqual({});
    const last = asObject(StreamResponse, encodeStreamError('model gone', 'm', undefined, 'r9', { triton_final_response: true }));
    expect([last.error_message, last.infer_response.model_name, last.infer_response.id]).toEqual(['model gone', 'm', 'r9']);
    expect(last.infer_response.parameters.triton_final_response.bool_param).toBe(true);
  });
});

describe('encodeInferResponse: bounded work and memory', () => {
  const strings = ['a', '', 'é', 'x'.repeat(100)];

  it('writes BYTES from a ByteStrings as contents and raw', async () => {
    const raw = asObject(Response, await encode(response([{ name: 's', datatype: 'BYTES', shape: [4], data: ByteStrings.from(strings) }]), true));
    const tail = Buffer.from(raw.raw_output_contents[0]);
    const lengths: number[] = [];
    for (let p = 0; p < tail.length; p += 4 + tail.readUInt32LE(p)) lengths.push(tail.readUInt32LE(p));
    expect(lengths).toEqual(strings.map((t) => Buffer.byteLength(t)));
    const decoded = asObject(Response, await encode(response([{ name: 's', datatype: 'BYTES', shape: [4], data: ByteStrings.from(strings) }]), false));
    expect(decoded.outputs[0].contents.bytes_contents.map((b: Uint8Array) => Buffer.from(b).toString())).toEqual(strings);
  });

  it('refuses a response over the send limit (wrapper included) before allocating it, naming the setting', async () => {
    const r = response([{ name: 'y', datatype: 'FP32', shape: [1000], data: new Float32Array(1000) }]);
    const size = (await encode(r, false)).length;
    expect(encodeInferResponse(r, false, size)).toBeInstanceOf(Buffer);
    const refused = (() => {
      try {
        encodeInferResponse(r, false, size, 2);
      } catch (err) {
        return err as ModelServerError;
      }
      throw new Error('encoded');
    })();
    expect(refused.code).toBe(ErrorCode.PayloadTooLarge);
    expect(refused.message).toMatch(new RegExp(`the response message is ${size + 3} bytes, over the server's limit of ${size} bytes: raise maxSendMessageBytes`));
  });

  it('encodes a large response in slices with the event loop running in between; small ones synchronously', async () => {
    const n = 8 * 1024 * 1024;
    const data = new BigInt64Array(n).fill(-1n);
    data[n - 1] = 7n;
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      const pending = encodeInferResponse(response([{ name: 'y', datatype: 'INT64', shape: [n], data }]), false, 1 << 30);
      expect(pending).toBeInstanceOf(Promise);
      const bytes = await pending;
      expect(turns).toBeGreaterThan(0);
      // 10 bytes per -1, one for 7: packed after a 4-byte length.
      expect(bytes.length).toBeGreaterThan(10 * (n - 1));
      expect(bytes[bytes.length - 1]).toBe(7);
    } finally {
      clearInterval(ticker);
    }
    expect(encodeInferResponse(response([{ name: 'y', datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) }]), false, 1 << 20)).toBeInstanceOf(Buffer);
  });
});
