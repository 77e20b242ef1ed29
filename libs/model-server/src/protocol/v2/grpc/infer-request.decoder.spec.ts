import * as protobuf from 'protobufjs';
import { ErrorCode } from '../../../errors/error-code.enum';
import { isModelServerError } from '../../../errors/model-server.error';
import { GRPC_PREDICT_V2_PROTO } from './grpc-service.definition';
import { decodeInferRequest } from './infer-request.decoder';

// A stock protobuf implementation encodes the messages the decoder must read.
const root = new protobuf.Root().loadSync(GRPC_PREDICT_V2_PROTO, { keepCase: true });
const Request = root.lookupType('inference.ModelInferRequest');
const encode = (message: Record<string, unknown>): Buffer => Buffer.from(Request.encode(Request.fromObject(message)).finish());

function failure(bytes: Buffer): string {
  try {
    decodeInferRequest(bytes);
  } catch (err) {
    if (isModelServerError(err) && err.code === ErrorCode.InvalidRequest) return err.message;
    throw err;
  }
  throw new Error('decoded without error');
}

describe('decodeInferRequest', () => {
  it('reads names, version, id, outputs and typed contents into typed arrays, 64-bit exact', () => {
    const decoded = decodeInferRequest(
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
    expect((d.data as Buffer[]).map((x) => [...x])).toEqual([[0x78], [0xff]]);
    expect(e.data).toEqual(new Uint8Array([1, 0]));
    expect(f.data).toEqual(new Int32Array([-5]));
    expect(decoded.wire.outputs).toEqual([{ name: 'y', parameters: { binary: true } }]);
  });

  it('keeps raw_input_contents as each input’s raw bytes and marks the request raw', () => {
    const decoded = decodeInferRequest(
      encode({ model_name: 'm', inputs: [{ name: 'a', datatype: 'FP16', shape: [1] }, { name: 'b', datatype: 'INT32', shape: [0] }], raw_input_contents: [Buffer.from([0, 0x3c]), Buffer.alloc(0)] }),
    );
    expect(decoded.raw).toBe(true);
    expect(decoded.modelVersion).toBeUndefined();
    expect([...decoded.wire.inputs[0].raw!]).toEqual([0, 0x3c]);
    expect(decoded.wire.inputs[1].raw!.length).toBe(0);
  });

  it('reads parameters of every kind: int64/uint64 as numbers when exact, else bigints', () => {
    const decoded = decodeInferRequest(
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

  it('reads unpacked repeated scalars and skips unknown fields', () => {
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
    const decoded = decodeInferRequest(Buffer.from(w.finish()));
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
  ])('%s is a client error that says what to fix', (_what, message, expected) => {
    expect(failure(encode(message))).toMatch(expected);
  });

  it.each<[string, number[]]>([
    ['a cut length', [0x0a, 0x05, 0x61]],
    ['a cut varint', [0x22, 0x02, 0x12, 0x80]],
    ['a group', [0x0b]],
    ['a wrong wire type for model_name', [0x08, 0x01]],
    ['field number 0', [0x00, 0x01]],
  ])('malformed bytes (%s) are a client error', (_what, bytes) => {
    expect(failure(Buffer.from(bytes))).toMatch(/ModelInferRequest message is malformed/);
  });
});
