import type { Datatype } from '../model/datatype';
import { writeJsonData } from './json-data.writer';
import { parseJson } from './lossless-json';
import { tensorToRaw } from './raw-data.encoder';
import { decodeTensor } from './tensor.decoder';

/** [datatype, shape, JSON data as a client writes it, JSON data as the server writes it back] */
const CASES: Array<[Datatype, number[], string, string]> = [
  ['BOOL', [2, 2], '[[true,false],[1,0]]', '[true,false,true,false]'],
  ['UINT8', [3], '[0,255,7]', '[0,255,7]'],
  ['UINT16', [2], '[0,65535]', '[0,65535]'],
  ['UINT32', [2], '[0,4294967295]', '[0,4294967295]'],
  ['UINT64', [4], '[0,18446744073709551615,9007199254740993,1]', '[0,18446744073709551615,9007199254740993,1]'],
  ['INT8', [3], '[-128,127,0]', '[-128,127,0]'],
  ['INT16', [2], '[-32768,32767]', '[-32768,32767]'],
  ['INT32', [2], '[-2147483648,2147483647]', '[-2147483648,2147483647]'],
  [
    'INT64',
    [2, 2],
    '[[-9223372036854775808,9223372036854775807],[0,-9007199254740993]]',
    '[-9223372036854775808,9223372036854775807,0,-9007199254740993]',
  ],
  ['FP16', [5], '[65504,-65504,0.1,5.960464477539063e-8,1]', '[65504,-65504,0.1,6e-8,1]'],
  ['BF16', [3], '[1,0.1,3.3895313892515355e38]', '[1,0.1,3.39e+38]'],
  [
    'FP32',
    [6],
    '[0.1,3.4028234663852886e38,1.401298464324817e-45,-0.0,1e-7,0.333333343267]',
    '[0.1,3.4028235e+38,1e-45,-0.0,1e-7,0.33333334]',
  ],
  ['FP64', [4], '[0.1,1.7976931348623157e308,5e-324,-2.5]', '[0.1,1.7976931348623157e+308,5e-324,-2.5]'],
  ['BYTES', [3], '["hello","héllo ✓",""]', '["hello","héllo ✓",""]'],
];

describe('JSON round trip: parseJson → decodeTensor → writeJsonData', () => {
  it.each(CASES)('%s', (datatype, shape, sent, expected) => {
    const body = parseJson(`{"inputs":[{"name":"x","datatype":"${datatype}","shape":[${shape.join(',')}],"data":${sent}}]}`) as {
      inputs: Array<{ name: string; datatype: string; shape: number[]; data: unknown }>;
    };
    const first = decodeTensor(body.inputs[0], "input 'x'");
    const text = writeJsonData(first, "output 'x'");
    expect(text).toBe(expected);
    // What the server wrote decodes to the very same values.
    const again = decodeTensor({ name: 'x', datatype, shape, data: parseJson(text) }, "input 'x'");
    expect(again.data).toEqual(first.data);
  });
});

describe('raw round trip: decodeTensor(raw) → tensorToRaw', () => {
  it.each(CASES)('%s', (datatype, shape, sent) => {
    const fromJson = decodeTensor({ name: 'x', datatype, shape, data: parseJson(sent) }, "input 'x'");
    const raw = tensorToRaw(fromJson);
    const fromRaw = decodeTensor({ name: 'x', datatype, shape, raw }, "input 'x'");
    expect(fromRaw.data).toEqual(fromJson.data);
    expect(Array.from(tensorToRaw(fromRaw))).toEqual(Array.from(raw));
  });

  it('keeps 64-bit extremes exact through raw bytes', () => {
    const t = decodeTensor({ name: 'x', datatype: 'UINT64', shape: [1], data: parseJson('[18446744073709551615]') }, "input 'x'");
    expect(Array.from(tensorToRaw(t))).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
  });
});
