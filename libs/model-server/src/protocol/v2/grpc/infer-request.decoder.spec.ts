import * as protobuf from 'protobufjs';
import { ErrorCode } from '../../../errors/error-code.enum';
import { isModelServerError } from '../../../errors/model-server.error';
import { TensorBudget } from '../../../codecs/tensor-budget';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '../../../inference/request-limits';
import { ByteStrings } from '../../../model/byte-strings';
import { GRPC_PREDICT_V2_PROTO } from './grpc-service.definition';
import { decodeInferRequest, type DecodedInferRequest } from './infer-request.decoder';
import { ProtoReader } from './proto-wire.util';
import { decodeContents } from './tensor-contents.decoder';
import { runToEnd, WorkSlicer } from './work-slicer.util';

// A stock protobuf implementation encodes the messages the decoder must read.
const root = new protobuf.Root().loadSync(GRPC_PREDICT_V2_PROTO, { keepCase: true });
const Request = root.lookupType('inference.ModelInferRequest');
const encode = (message: Record<string, unknown>): Buffer => Buffer.from(Request.encode(Request.fromObject(message)).finish());

const decode = async (bytes: Buffer, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): Promise<DecodedInferRequest> => decodeInferRequest(bytes, limits);

async function failure(bytes: Buffer): Promise<string> {
  try {
    await decode(bytes);
  } catch (err) {
    if (isModelServerError(err) && err.code === ErrorCode.InvalidRequest) return err.message;
    throw err;
  }
  throw new Error('decoded without error');
}

describe('decodeInferRequest', () => {
  it('reads names, version, id, outputs and typed contents into typed arrays, 64-bit exact', async () => {
    const decoded = await decode(
      encode({
        model_name: 'm',
        model_version: '2',
        id: 'r1',
        inputs: [
          { name: 'a', datatype: 'INT64', shape: [2], contents: { int64_contents: ['-9223372036854775808', '9223372036854775807'] } },
          { name: 'b', datatype: 'UINT64', shape: [1], contents: { uint64_contents: ['18446744073709551615'] } },
          { name: 'c', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1.5, -2] } },
          { name: 'd', datatype: 'BYTES', shape: [2], contents: { bytes_contents: [Buffer.from('x'), Buffer.from([0xff])] } },
          { name: 'e', datatype: 'BOOL', shape: [2], contents: { bool_contents: [true, false] } },
          { name: 'f', datatype: 'INT8', shape: [1], contents: { int_contents: [-5] } },
        ],
        outputs: [{ name: 'y', parameters: { binary: { bool_param: true } } }],
      }),
    );
    expect([decoded.modelName, decoded.modelVersion, decoded.raw, decoded.wire.id]).toEqual(['m', '2', false, 'r1']);
    const [a, b, c, d, e, f] = decoded.wire.inputs;
    expect(a.data).toEqual(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]));
    expect(b.data).toEqual(new BigUint64Array([2n ** 64n - 1n]));
    expect([c.shape, c.data]).toEqual([[1, 2], new Float32Array([1.5, -2])]);
    expect([...(d.data as Iterable<Buffer>)].map((x) => [...x])).toEqual([[0x78], [0xff]]);
    expect(e.data).toEqual(new Uint8Array([1, 0]));
    expect(f.data).toEqual(new Int8Array([-5]));
    expect(decoded.wire.outputs).toEqual([{ name: 'y', parameters: { binary: true } }]);
  });

  it('keeps raw_input_contents as each input’s raw bytes and marks the request raw', async () => {
    const decoded = await decode(
      encode({ model_name: 'm', inputs: [{ name: 'a', datatype: 'FP16', shape: [1] }, { name: 'b', datatype: 'INT32', shape: [0] }], raw_input_contents: [Buffer.from([0, 0x3c]), Buffer.alloc(0)] }),
    );
    expect(decoded.raw).toBe(true);
    expect(decoded.modelVersion).toBeUndefined();
    expect([...decoded.wire.inputs[0].raw!]).toEqual([0, 0x3c]);
    expect(decoded.wire.inputs[1].raw!.length).toBe(0);
  });

  it('hands small raw entries over at an offset their elements can be viewed from, large ones as they lie', async () => {
    const values = new Float32Array([5.1, 3.5, 1.4, 0.2]);
    const large = Buffer.alloc(8192, 1);
    const message = encode({
      model_name: 'm',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [1, 4] },
        { name: 'b', datatype: 'INT8', shape: [3] },
        { name: 'c', datatype: 'FP64', shape: [1024] },
      ],
      raw_input_contents: [Buffer.from(values.buffer), Buffer.from([1, 2, 3]), large],
    });
    // Every offset of the message in memory, so that some put the raw entries off their alignment.
    for (let shift = 0; shift < 8; shift++) {
      const bytes = Buffer.alloc(message.length + shift).subarray(shift);
      message.copy(bytes);
      const [a, b, c] = (await decode(bytes)).wire.inputs.map((t) => t.raw!);
      expect(a.byteOffset % 4).toBe(0);
      expect(new Float32Array(a.buffer, a.byteOffset, 4)).toEqual(values);
      expect([...b]).toEqual([1, 2, 3]);
      expect(b.buffer).toBe(bytes.buffer);
      expect(c.buffer).toBe(bytes.buffer);
      expect(Buffer.from(c.buffer, c.byteOffset, c.byteLength).equals(large)).toBe(true);
    }
  });

  it('reads parameters of every kind: int64/uint64 as numbers when exact, else bigints', async () => {
    const decoded = await decode(
      encode({
        model_name: 'm',
        parameters: {
          b: { bool_param: true },
          small: { int64_param: '-42' },
          big: { int64_param: '-9223372036854775808' },
          s: { string_param: 'é' },
          d: { double_param: 0.1 },
          u: { uint64_param: '18446744073709551615' },
          u53: { uint64_param: '9007199254740991' },
          none: {},
        },
        inputs: [{ name: 'a', datatype: 'FP32', shape: [0], parameters: { k: { string_param: 'v' } } }],
      }),
    );
    expect(decoded.wire.parameters).toEqual({ b: true, small: -42, big: -(2n ** 63n), s: 'é', d: 0.1, u: 2n ** 64n - 1n, u53: 9007199254740991 });
    expect(decoded.wire.inputs[0].parameters).toEqual({ k: 'v' });
  });

  it('reads unpacked repeated scalars and skips unknown fields', async () => {
    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).string('m');
    w.uint32((99 << 3) | 0).uint32(7); // unknown field
    const input = protobuf.Writer.create();
    input.uint32((1 << 3) | 2).string('x').uint32((2 << 3) | 2).string('FP32');
    input.uint32((3 << 3) | 0).int64(2); // shape, unpacked
    const contents = protobuf.Writer.create();
    contents.uint32((6 << 3) | 5).float(1.5).uint32((6 << 3) | 5).float(2.5);
    input.uint32((5 << 3) | 2).bytes(contents.finish());
    w.uint32((5 << 3) | 2).bytes(input.finish());
    const decoded = await decode(Buffer.from(w.finish()));
    expect(decoded.wire.inputs[0].shape).toEqual([2]);
    expect(decoded.wire.inputs[0].data).toEqual(new Float32Array([1.5, 2.5]));
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['no model name', { inputs: [{ name: 'a', datatype: 'FP32', shape: [0] }] }, /model_name is empty/],
    ['no inputs', { model_name: 'm' }, /has no inputs/],
    ['raw and contents', { model_name: 'm', inputs: [{ name: 'a', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }], raw_input_contents: [Buffer.alloc(4)] }, /both contents and raw_input_contents/],
    ['raw count', { model_name: 'm', inputs: [{ name: 'a', datatype: 'FP32', shape: [1] }], raw_input_contents: [Buffer.alloc(4), Buffer.alloc(4)] }, /2 entries but the request has 1 inputs/],
    ['wrong field', { model_name: 'm', inputs: [{ name: 'a', datatype: 'UINT64', shape: [1], contents: { int64_contents: ['1'] } }] }, /UINT64 values go in contents.uint64_contents, but the request sent contents.int64_contents/],
    ['BF16 contents', { model_name: 'm', inputs: [{ name: 'a', datatype: 'BF16', shape: [1], contents: { fp32_contents: [1] } }] }, /BF16 data travels only in raw_input_contents/],
    ['no data', { model_name: 'm', inputs: [{ name: 'a', datatype: 'BYTES', shape: [1] }] }, /has no data; send its values in contents.bytes_contents/],
    ['unnamed output', { model_name: 'm', inputs: [{ name: 'a', datatype: 'FP32', shape: [0] }], outputs: [{}] }, /requested output has no name/],
  ])('%s is a client error that says what to fix', async (_what, message, expected) => {
    expect(await failure(encode(message))).toMatch(expected);
  });

  it.each<[string, number[]]>([
    ['a cut length', [0x0a, 0x05, 0x61]],
    ['a cut varint', [0x22, 0x02, 0x12, 0x80]],
    ['a group', [0x0b]],
    ['a wrong wire type for model_name', [0x08, 0x01]],
    ['field number 0', [0x00, 0x01]],
  ])('malformed bytes (%s) are a client error', async (_what, bytes) => {
    expect(await failure(Buffer.from(bytes))).toMatch(/ModelInferRequest message is malformed/);
  });
});

// Hand-built wire bytes, for messages a stock encoder would take long to build.
function varint(v: number): Buffer {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}
const field = (n: number, payload: Buffer | string): Buffer => {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([varint((n << 3) | 2), varint(bytes.length), bytes]);
};
const input = (name: string, datatype: string, shape: number[], contents?: Buffer): Buffer =>
  Buffer.concat([field(1, name), field(2, datatype), field(3, Buffer.concat(shape.map(varint))), ...(contents ? [field(5, contents)] : [])]);
const request = (...parts: Buffer[]): Buffer => Buffer.concat([field(1, 'm'), ...parts]);
/** `n` one-byte elements of bytes_contents (3 bytes each on the wire). */
const oneByteStrings = (n: number): Buffer => {
  const b = Buffer.alloc(3 * n);
  for (let i = 0; i < n; i++) b.set([0x42, 0x01, 0x61 + (i % 26)], 3 * i);
  return b;
};

async function refusal(bytes: Buffer, limits: Partial<RequestLimits>): Promise<{ code: ErrorCode; message: string }> {
  try {
    await decode(bytes, { ...DEFAULT_REQUEST_LIMITS, ...limits });
  } catch (err) {
    if (isModelServerError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('decoded without error');
}

describe('decodeInferRequest: bounded work and memory', () => {
  // Every input's contents are in the wrong field: a refusal for a count proves no data was decoded.
  const wrongContents = (name: string) => field(5, input(name, 'FP32', [1], field(2, Buffer.from([0x01]))));

  it.each<[string, Buffer, Partial<RequestLimits>, RegExp]>([
    ['inputs', request(wrongContents('a'), wrongContents('b'), wrongContents('c')), { maxInputs: 2 }, /^3 inputs; the limit is 2 \(maxInputs\)$/],
    ['requested outputs', request(wrongContents('a'), field(6, field(1, 'y')), field(6, field(1, 'z'))), { maxOutputs: 1 }, /^2 requested outputs; the limit is 1 \(maxOutputs\)$/],
    [
      'request parameters',
      request(wrongContents('a'), ...['p', 'q', 'r'].map((k) => field(4, Buffer.concat([field(1, k), field(2, field(3, 'v'))])))),
      { maxParameters: 2 },
      /parameters of the request hold more than 2 entries; the limit is 2 \(maxParameters\)/,
    ],
    [
      'input parameters',
      request(field(5, Buffer.concat([input('a', 'FP32', [1], field(2, Buffer.from([1]))), ...['p', 'q'].map((k) => field(4, Buffer.concat([field(1, k), field(2, field(3, 'v'))])))]))),
      { maxParameters: 1 },
      /parameters of input 0 hold more than 1 entries; the limit is 1 \(maxParameters\)/,
    ],
    [
      'output parameters',
      request(wrongContents('a'), field(6, Buffer.concat([field(1, 'y'), ...['p', 'q'].map((k) => field(2, Buffer.concat([field(1, k), field(2, field(3, 'v'))])))]))),
      { maxParameters: 1 },
      /parameters of requested output 0 hold more than 1 entries; the limit is 1 \(maxParameters\)/,
    ],
  ])('too many %s: INVALID_ARGUMENT naming the setting, before any data is decoded', async (_what, bytes, limits, message) => {
    expect(await refusal(bytes, limits)).toEqual({ code: ErrorCode.InvalidRequest, message: expect.stringMatching(message) });
  });

  it('counts 200,000 inputs without keeping them, and refuses them by the limit', async () => {
    const one = field(5, field(1, 'x'));
    const bytes = request(Buffer.concat(new Array<Buffer>(200_000).fill(one)));
    expect(await refusal(bytes, {})).toEqual({ code: ErrorCode.InvalidRequest, message: '200000 inputs; the limit is 1024 (maxInputs)' });
  });

  it('raw entries past the inputs are counted, not kept', async () => {
    const bytes = request(field(5, input('a', 'FP32', [1])), Buffer.concat(new Array<Buffer>(5000).fill(field(7, Buffer.alloc(4)))));
    expect((await refusal(bytes, {})).message).toMatch(/raw_input_contents has 5000 entries but the request has 1 inputs/);
  });

  it.each<[string, Buffer, RegExp]>([
    ['FP32', input('x', 'FP32', [300], field(6, Buffer.alloc(1200))), /input 'x' would take 1200 bytes decoded/],
    ['INT64', input('x', 'INT64', [200], field(3, Buffer.alloc(200))), /input 'x' would take 1600 bytes decoded/],
    ['BYTES (bytes + 4 per offset)', input('x', 'BYTES', [200], oneByteStrings(200)), /input 'x' would take 1004 bytes decoded/],
  ])('%s contents over maxTensorBytes are RESOURCE_EXHAUSTED naming the setting, before allocation', async (_what, bytes, message) => {
    const refused = await refusal(request(field(5, bytes)), { maxTensorBytes: 1000 });
    expect(refused).toEqual({ code: ErrorCode.PayloadTooLarge, message: expect.stringMatching(message) });
    expect(refused.message).toMatch(/maxTensorBytes/);
  });

  it('the budget is the request’s: two inputs that fit alone do not fit together', async () => {
    const x = (name: string) => field(5, input(name, 'FP32', [150], field(6, Buffer.alloc(600))));
    expect((await refusal(request(x('a'), x('b')), { maxTensorBytes: 1000 })).message).toMatch(/input 'b' would take 600 bytes decoded, over what is left/);
  });

  it('a shape of more than 1024 dimensions is refused while it is read', async () => {
    const bytes = request(field(5, input('x', 'FP32', new Array<number>(2000).fill(1))));
    expect(await refusal(bytes, {})).toEqual({ code: ErrorCode.InvalidRequest, message: expect.stringMatching(/more than 1024 dimensions/) });
  });

  it('raw BYTES whose shape asks for more elements than the bytes can hold is INVALID_ARGUMENT, sized from nothing', async () => {
    const bytes = request(field(5, input('s', 'BYTES', [2 ** 32])), field(7, Buffer.from([1, 0, 0, 0, 0x61])));
    expect(await refusal(bytes, {})).toEqual({ code: ErrorCode.InvalidRequest, message: expect.stringMatching(/needs 4294967296 BYTES elements, but raw_input_contents holds 5 bytes/) });
  });

  it('a million one-byte bytes_contents become one buffer and offsets: no object per element', async () => {
    const n = 1_000_000;
    const message = request(field(5, input('s', 'BYTES', [n], oneByteStrings(n))));
    const r = new ProtoReader(message, 0, message.length, 'ModelInferRequest');
    const inputStart = message.indexOf(Buffer.from([0x2a])); // field 5 of the request
    r.pos = inputStart + 1;
    const end = r.delimited();
    const strings = runToEnd(decodeContents(r, r.pos, end, 'BYTES', "input 's'", new TensorBudget(DEFAULT_REQUEST_LIMITS.maxTensorBytes), new WorkSlicer()));
    expect(strings).toBeInstanceOf(ByteStrings);
    const bs = strings as ByteStrings;
    expect([bs.length, bs.bytes.length, bs.offsets.length]).toEqual([n, n, n + 1]);
    expect([bs.text(0), bs.text(25), bs.text(n - 1)]).toEqual(['a', 'z', String.fromCharCode(0x61 + ((n - 1) % 26))]);
    // What the decode keeps: the element bytes and 4 bytes per offset, 1.67× the 3n-byte contents.
    expect(bs.bytes.length + bs.offsets.byteLength).toBeLessThanOrEqual((5 / 3) * 3 * n + 4);
  });

  it('INT8 / UINT16 contents land in their own arrays; a value out of range goes to the codec as 32-bit', async () => {
    const i8 = (await decode(request(field(5, input('a', 'INT8', [2], field(2, Buffer.concat([varint(127), Buffer.from([0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]))))))).wire.inputs[0].data;
    expect(i8).toEqual(new Int8Array([127, -128]));
    const u16 = (await decode(request(field(5, input('a', 'UINT16', [1], field(4, varint(65535))))))).wire.inputs[0].data;
    expect(u16).toEqual(new Uint16Array([65535]));
    const wide = (await decode(request(field(5, input('a', 'UINT8', [2], field(4, Buffer.concat([varint(1), varint(300)]))))))).wire.inputs[0].data;
    expect(wide).toEqual(new Uint32Array([1, 300]));
  });

  it('keeps a parameter named __proto__ as an ordinary key', async () => {
    const entry = field(4, Buffer.concat([field(1, '__proto__'), field(2, field(3, 'v'))]));
    const decoded = await decode(request(entry, field(5, input('a', 'FP32', [0]))));
    expect(Object.getPrototypeOf(decoded.wire.parameters)).toBe(Object.prototype);
    expect(Object.keys(decoded.wire.parameters!)).toEqual(['__proto__']);
  });

  it('decodes a large message in slices, with the event loop running in between, and stops once the call is cancelled', async () => {
    const n = 16 * 1024 * 1024;
    const message = request(field(5, input('x', 'INT64', [n], field(3, Buffer.alloc(n, 0x05)))));
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      const pending = decodeInferRequest(message, DEFAULT_REQUEST_LIMITS);
      expect(pending).toBeInstanceOf(Promise);
      const decoded = await pending;
      const data = decoded.wire.inputs[0].data as BigInt64Array;
      expect([data.length, data[0], data[n - 1]]).toEqual([n, 5n, 5n]);
      expect(turns).toBeGreaterThan(0);
      const call = { cancelled: false };
      const cancelled = decodeInferRequest(message, DEFAULT_REQUEST_LIMITS, call);
      call.cancelled = true;
      await expect(cancelled).rejects.toMatchObject({ code: ErrorCode.Cancelled });
    } finally {
      clearInterval(ticker);
    }
  });

  it('a small message is decoded synchronously', () => {
    expect(decodeInferRequest(request(field(5, input('a', 'FP32', [1], field(6, Buffer.alloc(4))))), DEFAULT_REQUEST_LIMITS)).not.toBeInstanceOf(Promise);
  });
});
