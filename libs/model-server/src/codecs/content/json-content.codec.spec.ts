import { ByteStrings, type InferenceResponse, type Tensor } from '../../model';
import { contentTarget } from './content-target.util';
import { JsonContentCodec } from './json-content.codec';

const codec = new JsonContentCodec();
const IRIS = contentTarget('iris', [{ name: 'input-0', datatype: 'FP32', shape: [-1, 4] }]);
const ROWS = { mediaType: 'application/json', params: {}, format: 'rows' as const };

function response(outputs: Tensor[]): InferenceResponse {
  return { model_name: 'm', id: '1', outputs };
}

describe('JsonContentCodec', () => {
  it('reads bare rows and TF-Serving instances into the model input', () => {
    const expected = [{ name: 'input-0', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }];
    expect(codec.decode(Buffer.from('[[1,2],[3,4]]'), IRIS)).toEqual({ request: { inputs: expected }, format: 'rows' });
    expect(codec.decode(Buffer.from('{"instances":[[1,2],[3,4]]}'), IRIS).request.inputs).toEqual(expected);
    expect(codec.decode(Buffer.from('{"inputs":[[1,2],[3,4]]}'), IRIS).request.inputs).toEqual(expected);
    expect(codec.decode(Buffer.from('[1,2,3]'), IRIS).request.inputs[0].shape).toEqual([3]);
  });

  it('passes a v2 request through, checked', () => {
    const body = { inputs: [{ name: 'x', datatype: 'INT64', shape: [1], data: [9007199254740993n] }] };
    const decoded = codec.decode(Buffer.from('{"inputs":[{"name":"x","datatype":"INT64","shape":[1],"data":[9007199254740993]}]}'), IRIS);
    expect(decoded).toEqual({ request: body, format: 'v2' });
    expect(() => codec.decode(Buffer.from('{"inputs":[{"name":"x","shape":[1]}]}'), IRIS)).toThrow(/datatype/);
  });

  it('refuses ragged rows, empty bodies and other shapes with a 400 that says what to send', () => {
    expect(() => codec.decode(Buffer.from('[[1,2],[3]]'), IRIS)).toThrow('the body: rows must be rectangular; row[1] has 1 values where row[0] has 2');
    expect(() => codec.decode(Buffer.from('[[1,2],3]'), IRIS)).toThrow('row[1] is a value where the first row has a list');
    expect(() => codec.decode(Buffer.from('[[1,[2]],[3,4]]'), IRIS)).toThrow('row[0][1] nests deeper than the first row');
    expect(() => codec.decode(Buffer.from(''), IRIS)).toThrow('the body is empty');
    expect(() => codec.decode(Buffer.from('{"rows":[]}'), IRIS)).toThrow(/a JSON body must be a v2 request/);
    expect(() => codec.decode(Buffer.from('[1,'), IRIS)).toThrow(/malformed JSON/);
  });

  it('answers a v2 request with a v2 response', () => {
    const text = codec.encode(response([{ name: 'y', datatype: 'FP32', shape: [1], data: Float32Array.from([0.1]) }]), { ...ROWS, format: 'v2' });
    expect(JSON.parse(text)).toEqual({ model_name: 'm', id: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [0.1] }] });
  });

  it('answers rows with predictions: one output nested, several as one object per row', () => {
    expect(codec.encode(response([{ name: 'p', datatype: 'FP32', shape: [2, 2], data: Float32Array.from([0.1, 0.9, 1, 0]) }]), ROWS)).toBe('{"predictions":[[0.1,0.9],[1,0]]}');
    const rows = codec.encode(
      response([
        { name: 'class', datatype: 'INT64', shape: [2], data: BigInt64Array.from([0n, 9223372036854775807n]) },
        { name: 'label', datatype: 'BYTES', shape: [2], data: ByteStrings.from(['setosa', '"v"']) },
      ]),
      ROWS,
    );
    expect(rows).toBe('{"predictions":[{"class":0,"label":"setosa"},{"class":9223372036854775807,"label":"\\"v\\""}]}');
    const columns = codec.encode(
      response([
        { name: 'a', datatype: 'BOOL', shape: [], data: Uint8Array.from([1]) },
        { name: 'b', datatype: 'INT32', shape: [2], data: Int32Array.from([1, 2]) },
      ]),
      ROWS,
    );
    expect(columns).toBe('{"predictions":{"a":true,"b":[1,2]}}');
  });

  it('refuses NaN in JSON (406)', () => {
    expect(() => codec.encode(response([{ name: 'y', datatype: 'FP64', shape: [1], data: Float64Array.from([NaN]) }]), ROWS)).toThrow(
      expect.objectContaining({ code: 'NOT_ACCEPTABLE' }),
    );
  });
});
