import type { WireInferenceRequest } from '../../../codecs/wire-tensor.interface';
import { ByteStrings } from '../../../model/byte-strings';
import type { InferenceResponse } from '../../../model/inference.interface';
import type { RequestedOutput, Tensor } from '../../../model/tensor.interface';
import { serializeBinaryResponse } from './binary-tensor.framing';

function response(outputs: Tensor[]): InferenceResponse {
  return { model_name: 'm', id: 'r', outputs };
}

describe('serializeBinaryResponse', () => {
  it("sends an output as binary when its own binary_data says so, else by the request's binary_data_output", async () => {
    const outputs: Tensor[] = [
      { name: 'a', datatype: 'FP32', shape: [1], data: new Float32Array([1]) },
      { name: 'b', datatype: 'BYTES', shape: [2], data: ByteStrings.from(['x', 'yz']) },
      { name: 'c', datatype: 'INT8', shape: [1], data: new Int8Array([-1]) },
    ];
    const request: WireInferenceRequest = {
      inputs: [],
      parameters: { binary_data_output: true },
      outputs: [{ name: 'a', parameters: { binary_data: false } }, { name: 'b' }, { name: 'c' }],
    };
    const { body: parts, headerLength } = await serializeBinaryResponse(response(outputs), request);
    const body = Buffer.concat(parts);
    const header = JSON.parse(body.subarray(0, headerLength).toString());
    expect(header.outputs.map((o: { data?: unknown; parameters?: unknown }) => o.data ?? o.parameters)).toEqual([
      [1],
      { binary_data_size: 11 },
      { binary_data_size: 1 },
    ]);
    expect([...body.subarray(headerLength)]).toEqual([1, 0, 0, 0, 0x78, 2, 0, 0, 0, 0x79, 0x7a, 0xff]);
  });

  it('decides 16k outputs against 16k requested ones in linear work', async () => {
    const n = 16_384;
    let reads = 0;
    const requested: RequestedOutput[] = Array.from({ length: n }, (_, i) => {
      const r = { parameters: { binary_data: i % 2 === 0 } } as unknown as RequestedOutput;
      Object.defineProperty(r, 'name', { get: () => (reads++, `y-${i}`), enumerable: true });
      return r;
    });
    const outputs: Tensor[] = Array.from({ length: n }, (_, i) => ({ name: `y-${i}`, datatype: 'UINT8', shape: [1], data: new Uint8Array([i & 0xff]) }));
    const { body: parts, headerLength } = await serializeBinaryResponse(response(outputs), { inputs: [], outputs: requested });
    const body = Buffer.concat(parts);
    expect(body.length - headerLength).toBe(n / 2);
    expect(reads).toBeLessThan(4 * n); // a scan per output read n^2 / 2 names
  });
});
