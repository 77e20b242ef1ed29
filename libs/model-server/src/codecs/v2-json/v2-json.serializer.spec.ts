import { ErrorCode } from '../../errors/error-code.enum';
import { ModelServerError } from '../../errors/model-server.error';
import { ByteStrings } from '../../model/byte-strings';
import type { Datatype, TensorData } from '../../model/datatype';
import type { InferenceResponse } from '../../model/inference.interface';
import type { Tensor } from '../../model/tensor.interface';
import {
  type BinaryOutputs,
  isLargeResponse,
  LARGE_RESPONSE_ELEMENTS,
  serializeAndKeep,
  serializeInferenceResponse,
  serializeInferenceResponseChunks,
} from './v2-json.serializer';
import { generator, type Next } from '../../../../../test/helpers/seeded-random';

const TEXTS = ['', 'a', 'é', '"q"\\', '😀', '中文', '\n\t', '\u0000', 'long text '.repeat(20)];

function tensorData(next: Next, dt: Datatype, n: number): TensorData {
  switch (dt) {
    case 'BYTES': {
      const items = Array.from({ length: n }, () => Buffer.from(TEXTS[Math.floor(next() * TEXTS.length)]));
      return ByteStrings.from(items);
    }
    case 'BOOL':
      return Uint8Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0));
    case 'INT64':
      return BigInt64Array.from({ length: n }, () => BigInt(Math.floor((next() - 0.5) * 2 ** 53)) * 1000n);
    case 'UINT64':
      return BigUint64Array.from({ length: n }, () => BigInt(Math.floor(next() * 2 ** 53)) * 2000n);
    case 'INT32':
      return Int32Array.from({ length: n }, () => Math.floor((next() - 0.5) * 2 ** 32));
    case 'UINT8':
      return Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
    case 'FP64':
      return Float64Array.from({ length: n }, () => (next() < 0.05 ? -0 : (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20)));
    default:
      return Float32Array.from({ length: n }, () => (next() < 0.05 ? -0 : (next() - 0.5) * 10 ** Math.floor(next() * 10 - 5)));
  }
}

/** A response of every kind of output; `large` ones have outputs of more elements than one piece (8192). */
function randomResponse(next: Next, large: boolean): InferenceResponse {
  const datatypes: Datatype[] = ['BYTES', 'BOOL', 'INT64', 'UINT64', 'INT32', 'UINT8', 'FP64', 'FP32', 'FP16', 'BF16'];
  const outputs: Tensor[] = [];
  for (let k = Math.floor(next() * 4); k >= 0; k--) {
    const dt = datatypes[Math.floor(next() * datatypes.length)];
    const n = large && next() < 0.5 ? 8193 + Math.floor(next() * 10000) : Math.floor(next() * 20);
    const t = { name: `out-${k}-é`, datatype: dt, shape: [n], data: tensorData(next, dt, n) } as Tensor;
    if (next() < 0.3) t.parameters = { unit: 'm', big: 18446744073709551615n };
    outputs.push(t);
  }
  const response: InferenceResponse = { model_name: 'm"1', id: `id-${next()}`, outputs };
  if (next() < 0.5) response.model_version = '2';
  if (next() < 0.3) response.parameters = { seed: 9007199254740993n, list: [1, 'a'] };
  return response;
}

async function chunksText(response: InferenceResponse, binary: BinaryOutputs | null = null): Promise<string> {
  return Buffer.concat(await serializeInferenceResponseChunks(response, binary)).toString('utf8');
}

describe('serializeInferenceResponseChunks', () => {
  it('writes the same JSON as serializeInferenceResponse, in chunks (random responses)', async () => {
    const next = generator(31);
    for (let i = 0; i < 40; i++) {
      const response = randomResponse(next, i % 4 === 0);
      const expected = serializeInferenceResponse(response);
      expect((await chunksText(response)) === expected).toBe(true);
    }
  });

  it('collects binary outputs as the synchronous writer does', async () => {
    const next = generator(32);
    for (let i = 0; i < 8; i++) {
      const response = randomResponse(next, true);
      const pick = (name: string) => name.startsWith('out-0') || name.startsWith('out-2');
      const sync: BinaryOutputs = { isBinary: pick, chunks: [] };
      const sliced: BinaryOutputs = { isBinary: pick, chunks: [] };
      const expected = serializeInferenceResponse(response, sync);
      expect(await chunksText(response, sliced)).toBe(expected);
      expect(sliced.chunks).toEqual(sync.chunks);
    }
  });

  it('writes large float outputs byte for byte as the synchronous writer, across chunks of at most 1 MiB', async () => {
    const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + seed) * 10 ** ((i % 9) - 4));
    const response: InferenceResponse = {
      model_name: 'm',
      id: '1',
      outputs: [
        { name: 'a', datatype: 'FP32', shape: [300_001], data: values(300_001, 1) },
        { name: 'é', datatype: 'FP16', shape: [20_000], data: values(20_000, 2), parameters: { note: 'ü' } },
        { name: 'b', datatype: 'BF16', shape: [9_000], data: values(9_000, 3) },
        { name: 'c', datatype: 'INT64', shape: [3], data: BigInt64Array.from([1n, -2n, 9007199254740993n]) },
      ],
    };
    const chunks = await serializeInferenceResponseChunks(response);
    expect(chunks.length).toBeGreaterThan(2);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(1024 * 1024);
    expect(Buffer.concat(chunks).toString('utf8') === serializeInferenceResponse(response)).toBe(true);
  });

  it('yields to the event loop while writing a large response', async () => {
    const response: InferenceResponse = {
      model_name: 'm',
      id: '1',
      outputs: [{ name: 'y', datatype: 'INT32', shape: [2_000_000], data: Int32Array.from({ length: 2_000_000 }, (_, i) => i) }],
    };
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      const chunks = await serializeInferenceResponseChunks(response);
      expect(chunks.length).toBeGreaterThan(10);
      expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(1.1 * 1024 * 1024);
    } finally {
      clearInterval(ticker);
    }
    expect(turns).toBeGreaterThan(2);
  });

  it('refuses NaN with the synchronous writer\'s error', async () => {
    const response: InferenceResponse = {
      model_name: 'm',
      id: '1',
      outputs: [{ name: 'y', datatype: 'FP32', shape: [100000], data: Float32Array.from({ length: 100000 }, (_, i) => (i === 99999 ? NaN : i)) }],
    };
    expect(() => serializeInferenceResponse(response)).toThrow("output 'y' holds NaN or Infinity, which JSON cannot carry; ask for it as binary data");
    const err = await serializeInferenceResponseChunks(response).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelServerError);
    expect((err as ModelServerError).code).toBe(ErrorCode.ModelError);
    expect((err as Error).message).toBe("output 'y' holds NaN or Infinity, which JSON cannot carry; ask for it as binary data");
  });

  it('reuses a text a monitoring record already wrote (never splitting a surrogate pair)', async () => {
    const text = '😀'.repeat(700_000);
    for (const name of ['m', 'mm']) {
      // One of the two names puts a pair across the 1 MiB mark.
      const response: InferenceResponse = { model_name: name, id: '1', outputs: [{ name: 'y', datatype: 'BYTES', shape: [1], data: ByteStrings.from([text]) }] };
      const kept = serializeAndKeep(response);
      expect((await chunksText(response)) === kept).toBe(true);
    }
  });
});

describe('isLargeResponse', () => {
  it('is true from LARGE_RESPONSE_ELEMENTS elements (BYTES: elements and bytes) in all outputs', () => {
    const fp32 = (n: number): Tensor => ({ name: 'y', datatype: 'FP32', shape: [n], data: new Float32Array(n) });
    expect(isLargeResponse({ model_name: 'm', id: '1', outputs: [fp32(4)] })).toBe(false);
    expect(isLargeResponse({ model_name: 'm', id: '1', outputs: [fp32(LARGE_RESPONSE_ELEMENTS - 1)] })).toBe(false);
    expect(isLargeResponse({ model_name: 'm', id: '1', outputs: [fp32(LARGE_RESPONSE_ELEMENTS / 2), fp32(LARGE_RESPONSE_ELEMENTS / 2)] })).toBe(true);
    const bytes = ByteStrings.from([Buffer.alloc(LARGE_RESPONSE_ELEMENTS)]) as unknown as TensorData;
    expect(isLargeResponse({ model_name: 'm', id: '1', outputs: [{ name: 'b', datatype: 'BYTES', shape: [1], data: bytes }] })).toBe(true);
  });
});
