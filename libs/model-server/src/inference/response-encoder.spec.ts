import { ErrorCode } from '../errors/error-code.enum';
import { ByteStrings } from '../model/byte-strings';
import type { OutputTensor } from '../model/tensor.interface';
import type { ModelVersion } from '../repository/model-version';
import { encodeResponse } from './response-encoder';
import { errorOf } from '../../../../test/helpers/error-of';

const MODEL = { name: 'm', version: undefined, label: "'m'" } as unknown as ModelVersion;

describe('encodeResponse', () => {
  it('accepts BYTES outputs as a ByteStrings, Buffers or strings, and answers a ByteStrings', () => {
    const given = ByteStrings.from(['x']);
    const result = {
      outputs: [
        { name: 'a', datatype: 'BYTES', data: given },
        { name: 'b', datatype: 'BYTES', data: [Buffer.from([0xff]), Buffer.from('ok')] },
        { name: 'c', data: ['s', 'é'] },
      ] as OutputTensor[],
    };
    const response = encodeResponse(result, MODEL, { id: 'r', inputs: [] }, 'predict');
    expect(response.outputs[0].data).toBe(given);
    expect(response.outputs.map((t) => [t.datatype, t.shape, (t.data as ByteStrings).toArray().map((b) => [...b])])).toEqual([
      ['BYTES', [1], [[0x78]]],
      ['BYTES', [2], [[0xff], [0x6f, 0x6b]]],
      ['BYTES', [2], [[0x73], [0xc3, 0xa9]]],
    ]);
  });

  it('finds 16k requested outputs among as many produced ones in linear work, in the order asked', () => {
    const n = 16_384;
    let reads = 0;
    const outputs: OutputTensor[] = Array.from({ length: n }, (_, i) => {
      const out = { datatype: 'FP32', shape: [1], data: new Float32Array([i]) } as unknown as OutputTensor;
      Object.defineProperty(out, 'name', { get: () => (reads++, `y-${i}`), enumerable: true });
      return out;
    });
    const requested = Array.from({ length: n }, (_, i) => ({ name: `y-${n - 1 - i}` }));
    const response = encodeResponse({ outputs }, MODEL, { id: 'r', inputs: [], outputs: requested }, 'predict');
    expect(response.outputs[0]).toMatchObject({ name: `y-${n - 1}`, data: new Float32Array([n - 1]) });
    expect(reads).toBeLessThan(8 * n); // a scan per requested output read n^2 / 2 names
    const missing = errorOf(() => encodeResponse({ outputs }, MODEL, { id: 'r', inputs: [], outputs: [{ name: 'z'.repeat(10_000) }] }, 'predict'));
    expect(missing.code).toBe(ErrorCode.InvalidRequest);
    expect(missing.message.length).toBeLessThan(1500);
  });
});
