import { ErrorCode } from '../errors/error-code.enum';
import type { InferenceEvent } from '../inference/inference-event.interface';
import { binaryCloudEventHeaders, CloudEventsFormatter, structuredCloudEvent, type CloudEventsSettings } from './cloud-events.formatter';

const START = Date.UTC(2026, 0, 5, 9, 12, 33, 104);
const SETTINGS: CloudEventsSettings = {
  source: 'iris-predictor-00001-deployment-xyz',
  inferenceService: undefined,
  namespace: 'fraud',
  component: 'predictor',
  endpoint: 'default',
  errorEvents: false,
};

function event(over: Partial<InferenceEvent> = {}): InferenceEvent {
  return {
    id: '7f1c',
    model: 'iris',
    version: undefined,
    modelClass: 'IrisModel',
    op: 'infer',
    protocol: 'rest',
    startedAt: START,
    durationMs: 5.242,
    stages: {},
    status: 'ok',
    request: { id: '7f1c', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: new Float32Array([5.1, 3.5]) }] },
    rawRequest: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [[5.1, 3.5]] }] },
    response: { model_name: 'iris', id: '7f1c', outputs: [{ name: 'y', datatype: 'INT32', shape: [1], data: new Int32Array([0]) }] },
    errorCode: undefined,
    error: undefined,
    metrics: {},
    statistics: undefined,
    labels: {},
    traceparent: undefined,
    ...over,
  };
}

const RECORDED = Date.UTC(2026, 0, 5, 9, 12, 33, 110);

describe('CloudEventsFormatter (KServe payload logger)', () => {
  it('writes a request and a response event with the same id and the KServe attributes', () => {
    const [request, response] = new CloudEventsFormatter(SETTINGS, () => RECORDED).format(event());
    expect(request.cloudEvent).toEqual({
      specversion: '1.0',
      id: '7f1c',
      type: 'org.kubeflow.serving.inference.request',
      source: 'iris-predictor-00001-deployment-xyz',
      time: '2026-01-05T09:12:33.104Z',
      inferenceservicename: 'iris',
      namespace: 'fraud',
      component: 'predictor',
      endpoint: 'default',
      modelname: 'iris',
      metadata: '{}',
      recordedtime: '2026-01-05T09:12:33.110Z',
    });
    expect(response.cloudEvent).toEqual({ ...request.cloudEvent, type: 'org.kubeflow.serving.inference.response', time: '2026-01-05T09:12:33.109Z' });
    expect(request.body).toBe('{"id":"7f1c","inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[[5.1,3.5]]}]}');
    expect(response.body).toBe('{"model_name":"iris","id":"7f1c","outputs":[{"name":"y","datatype":"INT32","shape":[1],"data":[0]}]}');
  });

  it('names the InferenceService as configured, the model version when there is one, and the trace context', () => {
    const formatter = new CloudEventsFormatter({ ...SETTINGS, inferenceService: 'fraud-isvc' }, () => RECORDED);
    const [request] = formatter.format(event({ version: '3', traceparent: '00-abc-def-01' }));
    expect(request.cloudEvent).toMatchObject({
      inferenceservicename: 'fraud-isvc',
      modelname: 'iris',
      modelversion: '3',
      metadata: '{"traceparent":["00-abc-def-01"]}',
      traceparent: '00-abc-def-01',
    });
  });

  it('like KServe, a failed request gets its request event only; with errorEvents, an error event too', () => {
    const failed = event({ status: 'error', response: undefined, errorCode: ErrorCode.ModelError, error: 'boom' });
    expect(new CloudEventsFormatter(SETTINGS).format(failed).map((r) => r.cloudEvent!.type)).toEqual(['org.kubeflow.serving.inference.request']);
    const records = new CloudEventsFormatter({ ...SETTINGS, errorEvents: true }, () => RECORDED).format(failed);
    expect(records.map((r) => r.cloudEvent!.type)).toEqual(['org.kubeflow.serving.inference.request', 'org.kubeflow.serving.inference.error']);
    expect(records[1].cloudEvent!.id).toBe('7f1c');
    expect(records[1].body).toBe('{"error":"boom","code":"MODEL_ERROR"}');
  });

  it('a request refused before its body was read still gets its event, with the id', () => {
    const [request] = new CloudEventsFormatter(SETTINGS).format(event({ status: 'error', request: undefined, rawRequest: undefined, error: 'malformed JSON' }));
    expect(request.body).toBe('{"id":"7f1c"}');
  });

  it('binary mode: ce-* headers and the content type; structured mode: one JSON object', () => {
    const [request] = new CloudEventsFormatter(SETTINGS, () => RECORDED).format(event());
    expect(binaryCloudEventHeaders(request)).toEqual({
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': '7f1c',
      'ce-type': 'org.kubeflow.serving.inference.request',
      'ce-source': 'iris-predictor-00001-deployment-xyz',
      'ce-time': '2026-01-05T09:12:33.104Z',
      'ce-inferenceservicename': 'iris',
      'ce-namespace': 'fraud',
      'ce-component': 'predictor',
      'ce-endpoint': 'default',
      'ce-modelname': 'iris',
      'ce-metadata': '{}',
      'ce-recordedtime': '2026-01-05T09:12:33.110Z',
    });
    const structured = JSON.parse(structuredCloudEvent(request));
    expect(structured).toMatchObject({ specversion: '1.0', id: '7f1c', type: 'org.kubeflow.serving.inference.request', datacontenttype: 'application/json' });
    expect(structured.data).toEqual({ id: '7f1c', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [[5.1, 3.5]] }] });
  });

  it('percent-encodes what an HTTP header cannot carry', () => {
    const [request] = new CloudEventsFormatter(SETTINGS).format(event({ id: 'réq\n1' }));
    expect(binaryCloudEventHeaders(request)['ce-id']).toBe('r%C3%A9q%0A1');
  });
});
