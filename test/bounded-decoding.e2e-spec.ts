import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  ByteStrings,
  createFastifyAdapter,
  ModelServer,
  ModelServerModule,
  type InferenceRequest,
  type InferenceResult,
} from 'nest-model-server';
import { SageMakerModule } from 'nest-model-server/sagemaker';
import { EchoFixture } from './fixtures/test-models';
import { send } from './helpers/test-app';

const MiB = 1024 * 1024;

/** Echoes its one FP32 input. */
class Fp32Echo extends ModelServer {
  inputs = [{ name: 'x', datatype: 'FP32' as const, shape: [-1, -1] }];
  predict(request: InferenceRequest): InferenceResult {
    return { outputs: [{ name: 'y', datatype: 'FP32', shape: request.inputs[0].shape, data: request.inputs[0].data }] };
  }
}

/** Answers the number and texts of its BYTES elements, read from the ByteStrings it is given. */
class BytesInspector extends ModelServer {
  predict(request: InferenceRequest): InferenceResult {
    const data = request.inputs[0].data;
    const kind = data instanceof ByteStrings ? 'ByteStrings' : typeof data;
    return { outputs: [{ name: 'kind', datatype: 'BYTES', shape: [1], data: [kind] }, { name: 'texts', data: (data as ByteStrings).toStrings() }] };
  }
}

/** An .npy body: a version-1 header padded to 64 bytes, then the data. */
function npy(descr: string, shape: number[], data: Buffer): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  header.write('\x93NUMPY\x01\x00', 0, 'latin1');
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, 'latin1');
  header[total - 1] = 0x0a;
  return Buffer.concat([header, data]);
}

describe('bounded decoding through the routes (maxTensorBytes 1 MiB)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    const options = {
      models: [
        { name: 'echo', model: EchoFixture },
        { name: 'fp32', model: Fp32Echo },
        { name: 'bytes', model: BytesInspector },
      ],
      maxTensorBytes: MiB,
    };
    const moduleRef = await Test.createTestingModule({ imports: [ModelServerModule.forRoot(options), SageMakerModule.forRoot({})] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter({}), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  it('hands model code BYTES as one ByteStrings, from JSON and from binary data, and answers them', async () => {
    const json = await send(app, 'POST', '/v2/models/bytes/infer', { inputs: [{ name: 's', datatype: 'BYTES', shape: [2], data: ['héllo', ''] }] });
    expect(json.status).toBe(200);
    expect(json.body.outputs.map((o: { data: unknown }) => o.data)).toEqual([['ByteStrings'], ['héllo', '']]);
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 6 } }] }));
    const binary = await send(app, 'POST', '/v2/models/bytes/infer', Buffer.concat([header, Buffer.from([2, 0, 0, 0, 0x6f, 0x6b])]), {
      'inference-header-content-length': String(header.length),
    });
    expect(binary.status).toBe(200);
    expect(binary.body.outputs[1].data).toEqual(['ok']);
  });

  it('answers a BYTES shape of 2^32 over five binary bytes with a 400 (it was a 500)', async () => {
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 's', datatype: 'BYTES', shape: [2 ** 32], parameters: { binary_data_size: 5 } }] }));
    const res = await send(app, 'POST', '/v2/models/echo/infer', Buffer.concat([header, Buffer.from([1, 0, 0, 0, 0x61])]), {
      'inference-header-content-length': String(header.length),
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "input 's': raw BYTES data holds 1 elements, but shape [4294967296] needs 4294967296" });
  });

  it('refuses 1e999 in JSON for FP32 with a 400 (it was accepted as Infinity, then a 500)', async () => {
    const res = await send(app, 'POST', '/v2/models/echo/infer', '{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,1e999]}]}', {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/1e999 .*out of range/);
  });

  it('refuses inputs over maxTensorBytes together with a 413 naming the setting', async () => {
    const half = new Array(150_000).fill(0);
    const res = await send(app, 'POST', '/v2/models/echo/infer', {
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [150_000], data: half },
        { name: 'b', datatype: 'FP32', shape: [150_000], data: half },
      ],
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe("input 'b' would take 600000 bytes decoded, over what is left of the request's 1048576-byte budget for tensors (maxTensorBytes)");
  });

  it('refuses an .npy of |S1 for an FP32 model at once (400) and CSV beyond the budget (413) on /invocations', async () => {
    const target = { 'x-amzn-sagemaker-target-model': 'fp32' };
    const strings = await send(app, 'POST', '/invocations', npy('|S1', [100_000], Buffer.alloc(100_000, 0x61)), { ...target, 'content-type': 'application/x-npy' });
    expect(strings.status).toBe(400);
    expect(strings.body.error).toBe("the application/x-npy array has dtype 'S1', but input 'x' of model 'fp32' is FP32; send a numeric or boolean array");
    const csv = await send(app, 'POST', '/invocations', '1,2,3,4\n'.repeat(70_000), { ...target, 'content-type': 'text/csv' });
    expect(csv.status).toBe(413);
    expect(csv.body.error).toMatch(/^input 'x' would take 1120000 bytes decoded, .* \(maxTensorBytes\)$/);
    const infinite = await send(app, 'POST', '/invocations', '1,1e999\n', { ...target, 'content-type': 'text/csv', accept: 'application/json' });
    expect(infinite.status).toBe(400);
    expect(infinite.body.error).toBe('CSV line 1, field 2: "1e999" is not a finite number');
    const ok = await send(app, 'POST', '/invocations', '1,2\n3,4\n', { ...target, 'content-type': 'text/csv', accept: 'application/json' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ predictions: [[1, 2], [3, 4]] });
  });
});
