import { ByteStrings, type InferenceResponse, type Tensor } from '../../model';
import { LARGE_JSON_BODY_BYTES } from '../json-body.parser';
import { TensorBudget } from '../tensor-budget';
import { serializeInferenceResponse } from '../v2-json/v2-json.serializer';
import { decodeTensor } from '../tensor.decoder';
import type { DecodedContent } from './content-codec.interface';
import { contentTarget } from './content-target.util';
import { JsonContentCodec } from './json-content.codec';

const codec = new JsonContentCodec();
const IRIS = contentTarget('iris', [{ name: 'input-0', datatype: 'FP32', shape: [-1, 4] }]);
const ROWS = { mediaType: 'application/json', params: {}, format: 'rows' as const };

function response(outputs: Tensor[]): InferenceResponse {
  return { model_name: 'm', id: '1', outputs };
}

describe('JsonContentCodec', () => {
  it('reads bare rows and TF-Serving instances into the model input', async () => {
    const expected = [{ name: 'input-0', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }];
    expect(await codec.decode(Buffer.from('[[1,2],[3,4]]'), IRIS)).toEqual({ request: { inputs: expected }, format: 'rows' });
    expect((await codec.decode(Buffer.from('{"instances":[[1,2],[3,4]]}'), IRIS)).request.inputs).toEqual(expected);
    expect((await codec.decode(Buffer.from('{"inputs":[[1,2],[3,4]]}'), IRIS)).request.inputs).toEqual(expected);
    expect((await codec.decode(Buffer.from('[1,2,3]'), IRIS)).request.inputs[0].shape).toEqual([3]);
  });

  it('passes a v2 request through, checked', async () => {
    const body = { inputs: [{ name: 'x', datatype: 'INT64', shape: [1], data: [9007199254740993n] }] };
    const decoded = await codec.decode(Buffer.from('{"inputs":[{"name":"x","datatype":"INT64","shape":[1],"data":[9007199254740993]}]}'), IRIS);
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

  it('reads a large body (64 KiB and more) in slices: rows and v2 data left as text, then decoded alike', async () => {
    const pad = (text: string) => Buffer.from(text + ' '.repeat(LARGE_JSON_BODY_BYTES));
    const INT = contentTarget('m', [{ name: 'in', datatype: 'INT32', shape: [-1, -1] }]);
    for (const text of [
      '[[1,2],[3,4],[5,6]]',
      '{"instances":[[1,2],[3,4]]}',
      '{"inputs":[[1,2],[3,4]]}',
      '{"inputs":[1,2,3]}',
      '[[[1],[2]],[[3],[4]]]',
      '[]',
      '{"inputs":[{"name":"in","datatype":"INT32","shape":[2],"data":[[7],[8]]}]}',
    ]) {
      const small = (await codec.decode(Buffer.from(text), INT)) as DecodedContent;
      const pending = codec.decode(pad(text), INT);
      expect(pending).toBeInstanceOf(Promise);
      const large = await pending;
      expect(large.format).toBe(small.format);
      const [s, l] = [small.request.inputs[0], large.request.inputs[0]];
      expect([l.name, l.datatype, l.shape]).toEqual([s.name, s.datatype, s.shape]);
      expect(l.data).toBeInstanceOf(Int32Array); // decoded from the bytes, not left for decodeTensor to convert
      expect(decodeTensor(l, "input 'in'").data).toEqual(decodeTensor(s, "input 'in'").data);
    }
  });

  it('takes a large body\'s tensors from the budget it is given (413 beyond it)', async () => {
    const text = '[[1,2],[3,4]]' + ' '.repeat(LARGE_JSON_BODY_BYTES);
    const decoded = await codec.decode(Buffer.from(text), IRIS, {}, new TensorBudget(16));
    expect(decoded.request.inputs[0].data).toEqual(Float32Array.from([1, 2, 3, 4]));
    await expect(codec.decode(Buffer.from(text), IRIS, {}, new TensorBudget(15))).rejects.toThrow(
      "input 'input-0' would take 16 bytes decoded, over what is left of the request's 15-byte budget for tensors (maxTensorBytes)",
    );
    const rows = '[' + Array.from({ length: 40000 }, () => '[1,2,3,4]').join(',') + ']';
    await expect(codec.decode(Buffer.from(rows), IRIS, {}, new TensorBudget(40000 * 16 - 1))).rejects.toThrow(/maxTensorBytes/);
  });

  it('refuses a large body as it refuses a small one', async () => {
    const pad = (text: string) => Buffer.from(text + ' '.repeat(LARGE_JSON_BODY_BYTES));
    const TWO = contentTarget('m', [
      { name: 'a', datatype: 'FP32', shape: [-1] },
      { name: 'b', datatype: 'FP32', shape: [-1] },
    ]);
    for (const [text, target] of [
      ['[[1,2],[3]]', IRIS],
      ['{"instances":[[1,2],3]}', IRIS],
      ['{"inputs":[[1,[2]],[3,4]]}', IRIS],
      ['{"instances":5}', IRIS],
      ['{"rows":[]}', IRIS],
      ['"text"', IRIS],
      ['[1,2]', TWO],
      ['{"inputs":[{"name":"x","shape":[1]}]}', IRIS],
    ] as const) {
      let expected = '';
      try {
        await codec.decode(Buffer.from(text), target);
      } catch (err) {
        expected = (err as Error).message;
      }
      expect(expected).not.toBe('');
      await expect(codec.decode(pad(text), target)).rejects.toThrow(expected);
    }
  });

  it('answers a v2 request with a v2 response', () => {
    const text = codec.encode(response([{ name: 'y', datatype: 'FP32', shape: [1], data: Float32Array.from([0.1]) }]), { ...ROWS, format: 'v2' }) as string;
    expect(JSON.parse(text)).toEqual({ model_name: 'm', id: '1', outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [0.1] }] });
  });

  it('writes a large v2 response in slices, the same JSON as a small one would be', async () => {
    const data = Float32Array.from({ length: 100_000 }, (_, i) => i / 4);
    const big = response([{ name: 'y', datatype: 'FP32', shape: [100_000], data }]);
    const written = codec.encode(big, { ...ROWS, format: 'v2' });
    expect(written).toBeInstanceOf(Promise);
    expect((await written).toString('utf8')).toBe(serializeInferenceResponse(big));
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
