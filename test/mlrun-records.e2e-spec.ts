import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferenceRequest, InferenceResult } from 'nest-model-server';
import { IrisModel } from '../samples/iris/iris.model';
import { MLRUN_WHEN, monitoredApp, readRecords } from './helpers/monitoring-app';
import { send } from './helpers/test-app';

/** The Iris sample, refusing negative measurements in predict: a failed model call. */
class CheckedIris extends IrisModel {
  predict(request: InferenceRequest): InferenceResult {
    if ((request.inputs[0].data as Float32Array).some((v) => v < 0)) throw new Error('negative measurement');
    return super.predict(request);
  }
}

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 3.0, 4.2, 1.5],
];

/** MLRun's model endpoint uid of `iris` (unversioned) in `fraud/serving:latest`. */
const ENDPOINT_ID = createHash('sha1').update('fraud_serving_latest_iris_latest').digest('hex');

/**
 * What MLRun 1.7's stream processing (ProcessEndpointEvent) requires of a record before it keeps it, and how it
 * reads the rows: `request.inputs` a list whose elements are all lists (each one row), `resp.outputs` as long as
 * the rows (one prediction each); a scalar feature per column.
 */
function expectMlrunReadable(record: Record<string, any>, rows: number[][]): void {
  for (const key of ['when', 'microsec', 'request', 'resp', 'function_uri', 'endpoint_id']) expect(record).toHaveProperty(key);
  expect(record.request.id ?? record.resp.id).toBeDefined();
  expect(Array.isArray(record.request.inputs) && record.request.inputs.every(Array.isArray)).toBe(true);
  expect(record.request.inputs).toHaveLength(rows.length);
  record.request.inputs.forEach((row: unknown[], i: number) => {
    expect(row).toHaveLength(4);
    row.forEach((v, j) => expect(v).toBeCloseTo(rows[i][j], 5));
  });
  expect(record.resp.outputs).toHaveLength(rows.length);
}

describe('MLRun records of rows requests', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nms-mlrun-records-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs 1, 2 and 3 rows, a failed call and a v2 [rows, 4] request field by field as MLRun reads them', async () => {
    const path = join(dir, 'iris.jsonl');
    const app = await monitoredApp([{ name: 'iris', model: CheckedIris, modelPath: join(__dirname, '..', 'samples', 'iris', 'model') }], {
      logStream: path,
      functionUri: 'fraud/serving:latest',
      host: 'pod-abc',
      processMetrics: false,
    });
    const answers: unknown[] = [];
    for (const n of [1, 2, 3]) {
      const res = await send(app, 'POST', '/v2/models/iris/infer', { id: `rows-${n}`, inputs: ROWS.slice(0, n) });
      expect(res.status).toBe(200);
      answers.push(res.body.outputs);
    }
    const failing = { id: 'bad', inputs: [[5.1, -3.5, 1.4, 0.2]], note: 'kept' };
    expect((await send(app, 'POST', '/v2/models/iris/infer', failing)).status).toBe(500);
    expect((await send(app, 'POST', '/v2/models/iris/infer', { inputs: [[1, 2, 3]] })).status).toBe(400); // a client's mistake: no record
    const v2 = await send(app, 'POST', '/v2/models/iris/infer', { id: 'v2', inputs: [{ name: 'input-0', datatype: 'FP32', shape: [3, 4], data: ROWS.flat() }] });
    expect(v2.status).toBe(200);
    await app.close();

    const records = readRecords(path);
    expect(records.map((r) => r.request.id)).toEqual(['rows-1', 'rows-2', 'rows-3', 'bad', 'v2']);
    for (const r of records) {
      expect(r).toMatchObject({
        class: 'CheckedIris',
        model_class: 'CheckedIris',
        worker: 0,
        model: 'iris',
        version: '',
        host: 'pod-abc',
        function_uri: 'fraud/serving:latest',
        endpoint_id: ENDPOINT_ID,
        op: 'infer',
      });
      expect('labels' in r).toBe(false); // only when the model has some
      expect(r.when).toMatch(MLRUN_WHEN);
    }

    const [one, two, three, bad, tensor] = records;
    for (const [record, n] of [[one, 1], [two, 2], [three, 3], [tensor, 3]] as const) {
      expectMlrunReadable(record, ROWS.slice(0, n));
      expect(Object.keys(record)).toEqual(['class', 'model_class', 'worker', 'model', 'version', 'host', 'function_uri', 'endpoint_id', 'request', 'op', 'resp', 'when', 'microsec', 'metrics']);
      expect(Object.keys(record.request)).toEqual(['id', 'inputs']);
      expect(record.resp).toMatchObject({ id: record.request.id, model_name: 'iris' });
      expect(Number.isInteger(record.microsec) && record.microsec > 0).toBe(true);
      // One prediction per row: the row's class, label and class probabilities.
      record.resp.outputs.forEach((prediction: unknown[]) => {
        expect(prediction).toHaveLength(5);
        expect([0, 1, 2]).toContain(prediction[0]);
        expect(['setosa', 'versicolor', 'virginica']).toContain(prediction[1]);
      });
    }
    // The predictions are the answers the client got, row by row.
    expect(two.resp.outputs.map((p: unknown[]) => p[0])).toEqual((answers[1] as { class: number[] }).class);
    expect(tensor.resp.outputs.map((p: unknown[]) => p[0])).toEqual((answers[2] as { class: number[] }).class);

    // The failed model call: the client's request as sent (its id, rows and other keys), the error, no response.
    expect(bad).toMatchObject({ request: failing, error_code: 'MODEL_ERROR' });
    expect(bad.error).toMatch(/negative measurement/);
    expect([bad.resp, bad.microsec]).toEqual([undefined, undefined]);
  });
});
