import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { ErrorCode } from '../errors/error-code.enum';
import { ByteStrings } from '../model/byte-strings';
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
/** MLRun's uid of the endpoint of iris v2 in fraud/serving:latest: sha1 of project_function_tag_model_version. */
const ENDPOINT = createHash('sha1').update('fraud_serving_latest_iris_v2').digest('hex');

describe('MlrunRecordFormatter', () => {
  it('writes the success record field by field, in MLRun order, with the exact types', () => {
    const [record] = new MlrunRecordFormatter(SETTINGS).format(event());
    expect(record.cloudEvent).toBeUndefined();
    expect(record.body).toBe(
      '{"class":"IrisModel","model_class":"IrisModel","worker":0,"model":"iris","version":"v2","host":"pod-abc","function_uri":"fraud/serving:latest",' +
        `"endpoint_id":"${ENDPOINT}",` +
        '"request":{"id":"7f1c","inputs":[[5.1,3.5,1.4,0.2]]},"op":"infer",' +
        '"resp":{"id":"7f1c","model_name":"iris","model_version":"v2","outputs":[0]},' +
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
    expect(Object.keys(rich).indexOf('labels')).toBe(Object.keys(rich).indexOf('endpoint_id') + 1);
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
    // A client's mistake: counted in metrics, written only when asked (MLRun writes error records for model calls).
    expect(new MlrunRecordFormatter(SETTINGS).format(failed)).toEqual([]);
    expect(new MlrunRecordFormatter({ ...SETTINGS, logClientErrors: true }).format(failed)[0].body).toBe(
      '{"class":"IrisModel","model_class":"IrisModel","worker":0,"model":"iris","version":"v2","host":"pod-abc","function_uri":"fraud/serving:latest",' +
        `"endpoint_id":"${ENDPOINT}",` +
        '"request":{"id":"7f1c","inputs":[{"name":"x","datatype":"FP32","shape":[3],"data":[1]}]},"op":"infer","when":"2026-01-05 09:12:33.104000+00:00",' +
        '"error":"input \'x\': shape [3] needs 3 elements, got 1","error_code":"INVALID_REQUEST"}',
    );
    // A body that did not parse: its text as sent (the start of it), under the request's id.
    const unread = { ...failed, rawRequest: Buffer.from('{"inputs": [1,'), error: 'malformed JSON' };
    expect(JSON.parse(new MlrunRecordFormatter({ ...SETTINGS, logClientErrors: true }).format(unread)[0].body).request).toEqual({ id: '7f1c', body: '{"inputs": [1,' });
  });

  it('writes a failed model call with the client\'s request as sent, its id set', () => {
    const sent = '{"inputs":[[5.1,3.5,1.4,0.2]]}';
    const failed = event({ status: 'error', response: undefined, errorCode: ErrorCode.ModelError, error: 'boom', failedStage: 'predict', requestText: sent, rawRequest: JSON.parse(sent) });
    const record = JSON.parse(new MlrunRecordFormatter(SETTINGS).format(failed)[0].body);
    expect(record).toMatchObject({ request: { id: '7f1c', inputs: [[5.1, 3.5, 1.4, 0.2]] }, error: 'boom', error_code: 'MODEL_ERROR', endpoint_id: ENDPOINT });
    // Without the text (a body read otherwise): the rows as received, never as tensor objects.
    const noText = JSON.parse(new MlrunRecordFormatter(SETTINGS).format({ ...failed, requestText: undefined })[0].body);
    expect(noText.request).toEqual({ id: '7f1c', inputs: [[5.1, 3.5, 1.4, 0.2]] });
  });

  it('computes endpoint_id as MLRun computes a model endpoint uid, or takes the configured one', () => {
    const id = (uri: string, model: string, version: string | undefined, endpointIds?: Record<string, string>) =>
      JSON.parse(new MlrunRecordFormatter({ ...SETTINGS, functionUri: uri, endpointIds }).format(event({ model, version }))[0].body).endpoint_id;
    const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
    expect(id('fraud/serving', 'iris', undefined)).toBe(sha1('fraud_serving_N/A_iris_latest'));
    expect(id('fraud/serving@abc123', 'iris', '2')).toBe(sha1('fraud_serving_abc123_iris_2'));
    expect(id('fraud/serving:prod', 'iris', '2', { iris: 'mine' })).toBe('mine');
    expect(id('fraud/serving:prod', 'iris', '2', { 'iris:2': 'v2-mine', iris: 'mine' })).toBe('v2-mine');
  });

  it('writes each row of every row-by-row tensor, NaN and infinities as null, BYTES as strings', () => {
    const rows = event({
      request: {
        id: '7f1c',
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [2, 2], data: new Float32Array([0.1, NaN, 3.5, Infinity]) },
          { name: 'n', datatype: 'INT64', shape: [2, 1], data: new BigInt64Array([9007199254740993n, -1n]) },
          { name: 'empty', datatype: 'FP32', shape: [2, 0], data: new Float32Array(0) },
          { name: 's', datatype: 'BYTES', shape: [2], data: ByteStrings.from(['a"b', 'c']) },
        ],
      },
      response: {
        model_name: 'iris',
        id: '7f1c',
        outputs: [
          { name: 'p', datatype: 'FP64', shape: [2, 2], data: new Float64Array([0.25, 0.75, 1e21, -0]) },
          { name: 'label', datatype: 'INT32', shape: [2], data: new Int32Array([1, 2]) },
        ],
      },
    });
    const body = new MlrunRecordFormatter(SETTINGS).format(rows)[0].body;
    expect(body).toContain('"inputs":[[0.1,null,9007199254740993,"a\\"b"],[3.5,null,-1,"c"]]');
    expect(body).toContain('"outputs":[[0.25,0.75,1],[1e+21,-0.0,2]]');
    const single = new MlrunRecordFormatter(SETTINGS).format(event({ response: { model_name: 'iris', id: '7f1c', outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: new Float32Array([NaN]) }] } }));
    expect(single[0].body).toContain('"outputs":[null]');
  });

  it('keeps the tensor form for requests that are no batch of rows', () => {
    const flat = event({ request: { id: '7f1c', inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: new Float32Array([1, 2, 3, 4]) }] } });
    const record = JSON.parse(new MlrunRecordFormatter(SETTINGS).format(flat)[0].body);
    expect(record.request.inputs[0]).toMatchObject({ name: 'x', shape: [4] });
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
    expect(record.request.inputs).toEqual([[5.1, 3.5, 1.4, 0.2]]);
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
    expect(JSON.parse(formatter.format(event())[0].body)).toMatchObject({ sampling_percentage: 10, effective_sample_count: 10, _count: 10 });
    const failed = JSON.parse(formatter.format(event({ status: 'error', error: 'x', errorCode: ErrorCode.ModelError, failedStage: 'predict' }))[0].body);
    expect([failed._count, failed.effective_sample_count]).toEqual([undefined, undefined]);
  });

  it('writes no record for a custom operation (MLRun writes none)', () => {
    const formatter = new MlrunRecordFormatter({ ...SETTINGS, logClientErrors: true });
    const op = event({ op: 'stats', request: { id: '7f1c', inputs: [], body: { q: 1 } }, response: { n: 3 } });
    expect([formatter.logs(op), formatter.format(op)]).toEqual([false, []]);
  });

  it('writes `when` as mlrunWhen does, for any time (the second is cached between records)', () => {
    const formatter = new MlrunRecordFormatter(SETTINGS);
    const times = [START, START + 0.0004, START + 0.0006, START + 999.9995, START + 1000, START + 86_399_999.9996, START + 123.456789];
    for (const t of times) expect(JSON.parse(formatter.format(event({ startedAt: t }))[0].body).when).toBe(mlrunWhen(t));
  });
});
