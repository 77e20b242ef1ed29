import { join } from 'node:path';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import { createTestServer } from 'nest-model-server/testing';
import type { TestServer } from 'nest-model-server/testing';
import { IrisModel } from '../iris/iris.model';
import { IrisUnitsModel } from './iris-units.model';
import { SequencePipeline } from './sequence-pipeline.model';

const CM = [5.1, 3.5, 1.4, 0.2];

describe('the Iris pipeline sample', () => {
  let server: TestServer;
  const events: InferenceEvent[] = [];
  beforeAll(async () => {
    server = await createTestServer({
      models: [
        { name: 'iris', model: IrisModel, modelPath: join(__dirname, '..', 'iris', 'model') },
        { name: 'iris-units', model: IrisUnitsModel, parameters: { unit: 'in' } },
        { name: 'iris-pipeline', model: SequencePipeline, parameters: { steps: ['iris-units', 'iris'] } },
        { name: 'bad-pipeline', model: SequencePipeline, parameters: { steps: ['iris'] } },
      ],
    });
    server.application.get(InferenceEventStream).events$.subscribe((e) => events.push(e));
  });
  afterAll(() => server?.close());

  it('converts inches, classifies, and records each step as its own in-process call', async () => {
    events.length = 0;
    const res = await server.infer('iris-pipeline', { inputs: [{ name: 'measurements', datatype: 'FP32', shape: [1, 4], data: CM.map((v) => v / 2.54) }] });
    expect(res.outputs.find((o) => o.name === 'label')!.data).toEqual(['setosa']);
    expect((res.parameters!.trace as { step: string }[]).map((t) => t.step)).toEqual(['iris-units', 'iris']);
    expect(events.map((e) => [e.model, e.protocol])).toEqual([
      ['iris-units', 'internal'],
      ['iris', 'internal'],
      ['iris-pipeline', 'rest'],
    ]);
  });

  it("answers a step's refusal with its status", async () => {
    await expect(server.infer('iris-pipeline', { inputs: [{ name: 'measurements', datatype: 'FP32', shape: [1, 4], data: [0, 1, 1, 1] }] })).rejects.toMatchObject({
      status: 400,
      message: 'measurement 0 (0) is not a plausible flower size in inches',
    });
  });

  it('refuses a pipeline of fewer than two steps at load', async () => {
    await expect(server.ready('bad-pipeline')).resolves.toBe(false);
    expect(await server.metadata('bad-pipeline')).toMatchObject({ state: 'failed', error: 'parameters.steps must list at least two model names, got ["iris"]' });
  });
});
