import { ErrorCode } from '../errors/error-code.enum';
import type { InferenceEvent } from '../inference/inference-event.interface';
import { MlrunRecordFormatter, type LoggedResultsSource } from './mlrun-record.formatter';
import { mlrunWhen } from './record-time.util';

const START = Date.UTC(2026, 0, 5, 9, 12, 33, 104);

function event(over: Partial<InferenceEvent> = {}): InferenceEvent {
  return {
    id: '7f1c',
    model: 'iris',
    version: 'v2',
    modelClass: 'IrisModel',
    op: 'infer',
    protocol: 'rest',
    startedAt: START,
    durationMs: 5.2345,
    stages: { predict: 4 },
    status: 'ok',
    request: { id: '7f1c', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2]) }] },
    rawRequest: { id: '7f1c', inputs: [] },
    response: { model_name: 'iris', model_version: 'v2', id: '7f1c', outputs: [{ name: 'label', datatype: 'INT64', shape: [1], data: new BigInt64Array([0n]) }] },
    errorCode: undefined,
    error: undefined,
    metrics: {},
    statistics: undefined,
    labels: {},
    traceparent: undefined,
    ...over,
  };
}

const SETTINGS = { functionUri: 'fraud/serving:latest', host: 'pod-abc', worker: 0 };

describe('MlrunRecordFormatter', () => {
  it('writes the success record field by field, in MLRun order, with the exact types', () => {
    const [record] = new MlrunRecordFormatter(SETTINGS).format(event());
    expect(record.cloudEvent).toBeUndefined();
    expect(record.body).toBe(
      '{"class":"IrisModel","model_class":"IrisModel","worker":0,"model":"iris","version":"v2","host":"pod-abc","function_uri":"fraud/serving:latest",' +
        '"request":{"id":"7f1c","inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]},"op":"infer",' +
        '"resp":{"model_name":"iris","model_version":"v2","id":"7f1c","outputs":[{"name":"label","datatype":"INT64","shape":[1],"data":[0]}]},' +
        '"when":"2026-01-05 09:12:33.104000+00:00","microsec":5235}',
    );
    const parsed = JSON.parse(record.body);
    expect(typeof parsed.worker).toBe('number');
    expect(Number.isInteger(parsed.microsec)).toBe(true);
  });

  it('writes version "" (not null) for an unversioned model, and labels and metrics only when there are some', () => {
    const plain = JSON.parse(new MlrunRecordFormatter(SETTINGS).format(event({ version: undefined }))[0].body);
    expect(plain.version).toBe('');
    expect('labels' in plain || 'metrics' in plain || 'statistics' in plain || 'traceparent' in plain).toBe(false);
    const rich = JSON.parse(
      new MlrunRecordFormatter(SETTINGS).format(
        event({ labels: { team: 'risk' }, metrics: { acc_proxy: 0.93 }, statistics: { rows: 1 }, traceparent: '00-abc-def-01' }),
      )[0].body,
    );
    expect(rich).toMatchObject({ labels: { team: 'risk' }, metrics: { acc_proxy: 0.93 }, statistics: { rows: 1 }, traceparent: '00-abc-def-01' });
    expect(Object.keys(rich).indexOf('labels')).toBe(Object.keys(rich).indexOf('function_uri') + 1);
  });

  it('writes microsec as the total latency, beyond one second too (MLRun\'s own wraps at 1 s)', () => {
    expect(JSON.parse(new MlrunRecordFormatter(SETTINGS).format(event({ durationMs: 2500.0004 }))[0].body).microsec).toBe(2_500_000);
  });

  it('writes an error record: request (id set), op, when and error, no resp, microsec or metrics', () => {
    const failed = event({
      status: 'error',
      request: undefined,
      rawRequest: { inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [1] }] },
      response: undefined,
      errorCode: ErrorCode.InvalidRequest,
      error: "input 'x': shape [3] needs 3 elements, got 1",
      metrics: { acc: 1 },
    });
    expect(new MlrunRecordFormatter(SETTINGS).format(failed)[0].body).toBe(
      '{"class":"IrisModel","model_class":"IrisModel","worker":0,"model":"iris","version":"v2","host":"pod-abc","function_uri":"fraud/serving:latest",' +
        '"request":{"id":"7f1c","inputs":[{"name":"x","datatype":"FP32","shape":[3],"data":[1]}]},"op":"infer","when":"2026-01-05 09:12:33.104000+00:00",' +
        '"error":"input \'x\': shape [3] needs 3 elements, got 1","error_code":"INVALID_REQUEST"}',
    );
  });

  it('an error after decoding logs the request as the model saw it', () => {
    const record = JSON.parse(new MlrunRecordFormatter(SETTINGS).format(event({ status: 'error', response: undefined, errorCode: ErrorCode.ModelError, error: 'boom' }))[0].body);
    expect(record.request.inputs[0].data).toEqual([5.1, 3.5, 1.4, 0.2]);
    expect(record).toMatchObject({ error: 'boom', error_code: 'MODEL_ERROR' });
  });

  it("uses the model's loggedResults: rows in place of tensors; the side it leaves out stays as is", () => {
    const calls: unknown[][] = [];
    const model: LoggedResultsSource = {
      loggedResults(request, response, op) {
        calls.push([request.id, (response as { id: string }).id, op]);
        return { inputs: [[5.1, 3.5, 1.4, 0.2]] };
      },
    };
    const record = JSON.parse(new MlrunRecordFormatter(SETTINGS, () => model).format(event())[0].body);
    expect(calls).toEqual([['7f1c', '7f1c', 'infer']]);
    expect(record.request).toEqual({ id: '7f1c', inputs: [[5.1, 3.5, 1.4, 0.2]] });
    expect(record.resp.outputs[0].name).toBe('label');
  });

  it('falls back to the plain record when loggedResults throws, and says so once per model', () => {
    const warnings: string[] = [];
    const model: LoggedResultsSource = {
      loggedResults() {
        throw new Error('no rows here');
      },
    };
    const formatter = new MlrunRecordFormatter(SETTINGS, () => model, (m) => warnings.push(m));
    formatter.format(event());
    const record = JSON.parse(formatter.format(event())[0].body);
    expect(record.request.inputs[0].name).toBe('x');
    expect(warnings).toEqual(["model 'iris': loggedResults threw (no rows here); its records log the request and response as they are"]);
  });

  it('never calls loggedResults for a failure', () => {
    let called = false;
    const model: LoggedResultsSource = {
      loggedResults: () => {
        called = true;
        return undefined;
      },
    };
    new MlrunRecordFormatter(SETTINGS, () => model).format(event({ status: 'error', error: 'x', errorCode: ErrorCode.ModelError }));
    expect(called).toBe(false);
  });

  it('adds sampling_percentage and the weight _count to sampled successes only', () => {
    const formatter = new MlrunRecordFormatter({ ...SETTINGS, sampling: { percentage: 10, weight: 10 } });
    expect(JSON.parse(formatter.format(event())[0].body)).toMatchObject({ sampling_percentage: 10, _count: 10 });
    expect(JSON.parse(formatter.format(event({ status: 'error', error: 'x' }))[0].body)._count).toBeUndefined();
  });

  it('writes an operation\'s value as resp', () => {
    const record = JSON.parse(new MlrunRecordFormatter(SETTINGS).format(event({ op: 'stats', request: { id: '7f1c', inputs: [], body: { q: 1 } }, response: { n: 3 } }))[0].body);
    expect(record).toMatchObject({ op: 'stats', request: { id: '7f1c', inputs: [], body: { q: 1 } }, resp: { n: 3 } });
  });

  it('writes `when` as mlrunWhen does, for any time (the second is cached between records)', () => {
    const formatter = new MlrunRecordFormatter(SETTINGS);
    const times = [START, START + 0.0004, START + 0.0006, START + 999.9995, START + 1000, START + 86_399_999.9996, START + 123.456789];
    for (const t of times) expect(JSON.parse(formatter.format(event({ startedAt: t }))[0].body).when).toBe(mlrunWhen(t));
  });
});
