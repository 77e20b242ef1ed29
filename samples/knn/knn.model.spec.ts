import { join } from 'node:path';
import { createTestServer, type TestServer } from 'nest-model-server/testing';
import { KnnModel } from './knn.model';

const parameters = { points: 3000, dims: 4, classes: 3, k: 5, seed: 11 };

describe.each([
  ['on the main thread', {}],
  ['in worker threads', { workers: 2, modulePath: join(__dirname, 'knn.model.ts') }],
])('knn sample %s', (_where, placement) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({ models: [{ name: 'knn', model: KnnModel, parameters, ...placement }] });
  });
  afterAll(() => server.close());

  it('declares its input from its parameters and classifies each row', async () => {
    const meta = (await server.metadata('knn')) as { inputs: unknown[] };
    expect(meta.inputs).toEqual([{ name: 'features', datatype: 'FP32', shape: [-1, 4] }]);
    const rows = [
      [1, 2, 3, 4],
      [9, 9, 9, 9],
      [1, 2, 3, 4],
    ];
    const res = await server.infer('knn', { inputs: [{ name: 'features', datatype: 'FP32', shape: [3, 4], data: rows.flat() }] });
    const [classes, confidence] = res.outputs;
    expect(classes).toMatchObject({ name: 'class', datatype: 'INT64', shape: [3] });
    expect(confidence).toMatchObject({ name: 'confidence', datatype: 'FP32', shape: [3] });
    const c = classes.data as number[];
    expect(c[0]).toBe(c[2]); // the same row, the same answer
    for (const v of c) expect(v >= 0 && v < 3).toBe(true);
    for (const v of confidence.data as number[]) expect(v > 0 && v <= 1).toBe(true);
  });

  it('refuses a feature matrix of the wrong width with a 400', async () => {
    await expect(server.infer('knn', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] })).rejects.toMatchObject({
      status: 400,
    });
  });
});
