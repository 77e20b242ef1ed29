import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringifyJson } from '../libs/model-server/src/internal';
import { MlpModel } from '../samples/mlp/mlp.model';
import { ONNX_ELEMENT_TYPES, PlainOnnxModel, ShiftedOnnxModel, writeIdentityModel, writePlusOneModel } from './fixtures/onnx-models';
import { createApp, send } from './helpers/test-app';

/*
 * ONNX Runtime's native addon hands back output arrays of Node's main realm, which jest's sandbox does not
 * share (its typed-array checks fail there), so these tests run the sessions in worker threads (`workers`),
 * outside the sandbox: the configuration the docs recommend for ONNX models anyway.
 */
const FIXTURES = require.resolve('./fixtures/onnx-models');
const MLP = require.resolve('../samples/mlp/mlp.model');
const MLP_PATH = join(__dirname, '..', 'samples', 'mlp', 'model');

describe('OnnxModelServer (ONNX Runtime)', () => {
  let app: NestFastifyApplication;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onnx-e2e-'));
    writeIdentityModel(dir);
    writePlusOneModel(dir);
    const worker = { modulePath: FIXTURES, workers: 1 };
    app = await createApp({
      models: [
        { name: 'identity', model: PlainOnnxModel, modelPath: dir, ...worker },
        { name: 'shifted', model: ShiftedOnnxModel, modelPath: dir, parameters: { onnx: { file: 'plus-one.onnx', intraOpNumThreads: 1 } }, ...worker },
        { name: 'bad-settings', model: PlainOnnxModel, modelPath: dir, parameters: { onnx: { intraOpThreads: 2, executionMode: 'fast' } }, ...worker },
        { name: 'missing', model: PlainOnnxModel, modelPath: join(dir, 'nowhere'), ...worker },
        { name: 'mlp', model: MlpModel, modelPath: MLP_PATH, modulePath: MLP, workers: 1, maxBatchSize: 8, maxLatencyMs: 20 },
        { name: 'mlp-unbatched', model: MlpModel, modelPath: MLP_PATH, modulePath: MLP, workers: 1 },
      ],
    });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports metadata from the session: names, datatypes, -1 for symbolic dimensions, platform', async () => {
    const meta = (await send(app, 'GET', '/v2/models/identity')).body;
    expect(meta.platform).toBe('onnxruntime');
    expect(meta.inputs).toHaveLength(13);
    expect(meta.inputs).toContainEqual({ name: 'FP32_in', datatype: 'FP32', shape: [-1, 2] });
    expect(meta.inputs).toContainEqual({ name: 'BYTES_in', datatype: 'BYTES', shape: [-1, 2] });
    expect(meta.outputs).toContainEqual({ name: 'UINT64_out', datatype: 'UINT64', shape: [-1, 2] });
    const mlp = (await send(app, 'GET', '/v2/models/mlp')).body;
    expect(mlp.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [-1, 64] }]);
    expect(mlp.outputs).toEqual([
      { name: 'logits', datatype: 'FP32', shape: [-1, 10] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
    ]);
  });

  it('maps every datatype to ONNX Runtime tensors and back', async () => {
    const values: Record<string, unknown[]> = {
      FP32: [1.5, -2.25, 0, 3e38],
      FP64: [Math.PI, -1e-300, 0, 1e300],
      FP16: [1.5, -2, 65504, 0.1], // 0.1 travels as the half nearest to it, written back as 0.1
      INT8: [-128, 127, 0, 1],
      INT16: [-32768, 32767, 0, 1],
      INT32: [-2147483648, 2147483647, 0, 1],
      INT64: [-(2n ** 63n), 2n ** 63n - 1n, 0, 1],
      UINT8: [0, 255, 1, 2],
      UINT16: [0, 65535, 1, 2],
      UINT32: [0, 4294967295, 1, 2],
      UINT64: [0, 2n ** 64n - 1n, 1, 2],
      BOOL: [true, false, false, true],
      BYTES: ['a', 'héllo', '', 'z'],
    };
    const inputs = Object.entries(values).map(([dt, data]) => ({ name: `${dt}_in`, datatype: dt, shape: [2, 2], data }));
    const res = await send(app, 'POST', '/v2/models/identity/infer', stringifyJson({ inputs }), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    for (const [dt, data] of Object.entries(values)) {
      const out = res.body.outputs.find((o: { name: string }) => o.name === `${dt}_out`);
      expect([out.datatype, out.shape, out.data]).toEqual([dt, [2, 2], data]);
    }
  });

  it('computes only the requested outputs', async () => {
    const inputs = Object.keys(ONNX_ELEMENT_TYPES).map((dt) => ({
      name: `${dt}_in`,
      datatype: dt,
      shape: [1, 2],
      data: dt === 'BYTES' ? ['x', 'y'] : dt === 'BOOL' ? [true, false] : [1, 2],
    }));
    const res = await send(app, 'POST', '/v2/models/identity/infer', { inputs, outputs: [{ name: 'INT32_out' }, { name: 'FP64_out' }] });
    expect(res.body.outputs.map((o: { name: string; data: unknown }) => [o.name, o.data])).toEqual([
      ['INT32_out', [1, 2]],
      ['FP64_out', [1, 2]],
    ]);
  });

  it('refuses inputs that do not fit the graph with a 400', async () => {
    const wrongType = await send(app, 'POST', '/v2/models/shifted/infer', { inputs: [{ name: 'celsius', datatype: 'FP64', shape: [1, 3], data: [1, 2, 3] }] });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toMatch(/expects FP32/);
    const wrongShape = await send(app, 'POST', '/v2/models/mlp-unbatched/infer', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.body.error).toMatch(/expects \[-1,64\]/);
  });

  it('lets a subclass add pre- and post-processing around the session', async () => {
    const res = await send(app, 'POST', '/v2/models/shifted/infer', { inputs: [{ name: 'celsius', datatype: 'FP32', shape: [2, 3], data: [0, 1, 2, 3, 4, 5] }] });
    expect(res.status).toBe(200);
    expect(res.body.outputs).toEqual([{ name: 'shifted', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }]);
    expect(res.body.parameters).toEqual({ runtime: 'onnx' });
  });

  it('fails to load, with the reason, on bad session settings or a missing file', async () => {
    const bad = (await send(app, 'GET', '/v2/models/bad-settings')).body;
    expect(bad.state).toBe('failed');
    expect(bad.error).toMatch(/invalid parameters\.onnx: unknown setting 'intraOpThreads'.*executionMode must be one of sequential, parallel/);
    const missing = (await send(app, 'GET', '/v2/models/missing')).body;
    expect(missing.state).toBe('failed');
    expect(missing.error).toMatch(/model\.onnx/);
  });

  it('mlp: batched single-row requests get exactly what each row gets alone', async () => {
    const rows = Array.from({ length: 6 }, (_, r) => Array.from({ length: 64 }, (_, i) => Math.sin(r * 64 + i)));
    const alone = await Promise.all(
      rows.map((row) => send(app, 'POST', '/v2/models/mlp-unbatched/infer', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64], data: row }] })),
    );
    const batched = await Promise.all(
      rows.map((row) => send(app, 'POST', '/v2/models/mlp/infer', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64], data: row }] })),
    );
    for (let r = 0; r < rows.length; r++) {
      expect(batched[r].status).toBe(200);
      const a = alone[r].body.outputs[1].data as number[];
      const b = batched[r].body.outputs[1].data as number[];
      expect(b).toHaveLength(10);
      for (let i = 0; i < 10; i++) expect(b[i]).toBeCloseTo(a[i], 5);
      expect(a.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
    // Different rows give different answers: the network depends on its input.
    expect(alone[0].body.outputs[1].data).not.toEqual(alone[1].body.outputs[1].data);
  });
});
