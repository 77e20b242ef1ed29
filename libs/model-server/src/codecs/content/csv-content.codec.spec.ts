import { ByteStrings, type InferenceResponse, type Tensor } from '../../model';
import { contentTarget } from './content-target.util';
import { CsvContentCodec } from './csv-content.codec';

const codec = new CsvContentCodec();
const IRIS = contentTarget('iris', [{ name: 'input-0', datatype: 'FP32', shape: [-1, 4] }]);

function response(outputs: Tensor[]): InferenceResponse {
  return { model_name: 'm', id: '1', outputs };
}

describe('CsvContentCodec', () => {
  it('reads rows of numbers into one [rows, columns] tensor of the model input', () => {
    const { request, format } = codec.decode(Buffer.from('5.1,3.5,1.4,0.2\r\n6.7, 3.0 ,"5.2",2.3\n\n'), IRIS, {});
    expect(format).toBe('rows');
    expect(request.inputs).toEqual([{ name: 'input-0', datatype: 'FP32', shape: [2, 4], data: Float64Array.from([5.1, 3.5, 1.4, 0.2, 6.7, 3, 5.2, 2.3]) }]);
  });

  it('skips a header line when the media type says header=present, and a BOM', () => {
    const { request } = codec.decode(Buffer.from('\ufeffa,b\n1,2\n'), IRIS, { header: 'present' });
    expect(request.inputs[0].shape).toEqual([1, 2]);
  });

  it('gives a 1-D input one value per line', () => {
    const target = contentTarget('m', [{ name: 'x', datatype: 'FP64', shape: [-1] }]);
    expect(codec.decode(Buffer.from('1\n2\n3\n'), target, {}).request.inputs[0].shape).toEqual([3]);
  });

  it('reads 64-bit integers exactly', () => {
    const target = contentTarget('m', [{ name: 'id', datatype: 'INT64', shape: [-1, 2] }]);
    const { request } = codec.decode(Buffer.from('9223372036854775807,-1\n'), target, {});
    expect(request.inputs[0].data).toEqual([9223372036854775807n, -1n]);
  });

  it('refuses fields that are not numbers and ragged rows, naming the line', () => {
    expect(() => codec.decode(Buffer.from('1,2\n3,abc\n'), IRIS, {})).toThrow('CSV line 2, field 2: "abc" is not a number');
    expect(() => codec.decode(Buffer.from('1,2\n3,\n'), IRIS, {})).toThrow('CSV line 2, field 2: empty is not a number');
    expect(() => codec.decode(Buffer.from('1,2\n3\n'), IRIS, {})).toThrow('CSV line 2 has 1 fields, but line 1 has 2');
    expect(() => codec.decode(Buffer.from('0x10\n'), IRIS, {})).toThrow('"0x10" is not a number');
    expect(() => codec.decode(Buffer.from('\n \n'), IRIS, {})).toThrow('the CSV body has no rows');
  });

  it('refuses models with several inputs', () => {
    const target = contentTarget('two', [
      { name: 'a', datatype: 'FP32', shape: [-1] },
      { name: 'b', datatype: 'FP32', shape: [-1] },
    ]);
    expect(() => codec.decode(Buffer.from('1\n'), target, {})).toThrow("model 'two' takes 2 inputs ('a', 'b'); text/csv carries one, so send a v2 request as application/json");
  });

  it('writes one line per row, every output of the row in turn', () => {
    const text = codec.encode(
      response([
        { name: 'class', datatype: 'INT64', shape: [2], data: BigInt64Array.from([0n, 2n]) },
        { name: 'label', datatype: 'BYTES', shape: [2], data: ByteStrings.from(['setosa', 'a, "b"']) },
        { name: 'p', datatype: 'FP32', shape: [2, 2], data: Float32Array.from([0.1, 0.9, NaN, Infinity]) },
      ]),
      { mediaType: 'text/csv', params: {}, format: 'rows' },
    );
    expect(text).toBe('0,setosa,0.1,0.9\n2,"a, ""b""",nan,inf\n');
  });

  it('adds a header line when asked', () => {
    const text = codec.encode(
      response([
        { name: 'y', datatype: 'FP64', shape: [1], data: Float64Array.from([1.5]) },
        { name: 'p', datatype: 'BOOL', shape: [1, 2], data: Uint8Array.from([1, 0]) },
      ]),
      { mediaType: 'text/csv', params: { header: 'present' }, format: 'rows' },
    );
    expect(text).toBe('y,p_0,p_1\n1.5,true,false\n');
  });

  it('refuses outputs that do not share a row count (406)', () => {
    expect(() =>
      codec.encode(
        response([
          { name: 'a', datatype: 'FP32', shape: [2], data: new Float32Array(2) },
          { name: 'b', datatype: 'FP32', shape: [3], data: new Float32Array(3) },
        ]),
        { mediaType: 'text/csv', params: {}, format: 'rows' },
      ),
    ).toThrow(expect.objectContaining({ code: 'NOT_ACCEPTABLE' }));
  });
});
