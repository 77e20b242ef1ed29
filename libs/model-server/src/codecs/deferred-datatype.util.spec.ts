import { DeferredTensorData } from './deferred-tensor-data';
import { inferDeferredDatatype } from './deferred-datatype.util';
import { inferDatatype } from './output.encoder';

/** The array `text` of a body, as the large-body parser leaves it (elements and strings counted by the test). */
function deferred(text: string, elements: number, strings = 0): DeferredTensorData {
  const body = Buffer.from(`{"instances": ${text}}`);
  const start = body.indexOf('[');
  return new DeferredTensorData(body, start, start + Buffer.byteLength(text), elements, strings, 0, true);
}

describe('inferDatatype', () => {
  it.each<[unknown[], string]>([
    [[], 'FP32'],
    [[1, 2, 3], 'INT64'],
    [[1, 2.5], 'FP64'],
    [[2.5, 1], 'FP64'],
    [[9007199254740993n, 1], 'INT64'],
    [['a', 'b'], 'BYTES'],
    [[new Uint8Array([1])], 'BYTES'],
    [[true, false], 'BOOL'],
  ])('%j → %s', (values, datatype) => {
    expect(inferDatatype(values)).toBe(datatype);
  });
});

describe('inferDeferredDatatype (from the bytes of a large body)', () => {
  it.each<[string, number, number, string]>([
    ['[]', 0, 0, 'FP32'],
    ['[[1, 2], [3, 4]]', 4, 0, 'INT64'],
    ['[[1, 2.5], [3, 4]]', 4, 0, 'FP64'],
    ['[1e3, 2]', 2, 0, 'FP64'],
    ['[1E-3]', 1, 0, 'FP64'],
    ['[true, false]', 2, 0, 'BOOL'],
    ['["a", "b"]', 2, 2, 'BYTES'],
  ])('%s → %s', (text, elements, strings, datatype) => {
    expect(inferDeferredDatatype(deferred(text, elements, strings))).toBe(datatype);
  });

  it('looks only at the array, not at the rest of the body', () => {
    const body = Buffer.from('{"flag": true, "x": 1.5, "instances": [[1, 2]]}');
    const start = body.indexOf('[');
    expect(inferDeferredDatatype(new DeferredTensorData(body, start, body.length - 1, 2, 0, 0, true))).toBe('INT64');
  });
});
