import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ModelServer,
  Operation,
  type InferenceRequest,
  type InferenceResult,
  type RequestContext,
} from 'nest-model-server';
import { MAX_QUOTED_CHARS } from '../libs/model-server/src/errors/clip.util';
import { BuggyFixture, EchoFixture, SumFixture } from './fixtures/test-models';
import { MLRUN_WHEN, monitoredApp, readRecords } from './helpers/monitoring-app';
import { send } from './helpers/test-app';

/** A model that logs feature rows (MLRun's logged_results) and adds statistics and metrics per request. */
class RowsModel extends ModelServer {
  async load(): Promise<void> {
    this.context.setMetric('accuracy', 0.97);
  }
  predict(request: InferenceRequest, ctx: RequestContext): InferenceResult {
    const x = request.inputs[0].data as Float32Array;
    ctx.setMetric('confidence', 0.5);
    ctx.addStatistics({ rows: request.inputs[0].shape[0], source: 'unit' });
    return { outputs: [{ name: 'y', datatype: 'FP32', shape: [x.length], data: x.map((v) => v * 10) }] };
  }
  loggedResults(request: InferenceRequest, response: unknown, op: string): { inputs?: unknown[]; outputs?: unknown[] } {
    const x = Array.from(request.inputs[0].data as Float32Array);
    const y = (response as { outputs: { data: Float32Array }[] }).outputs[0].data;
    return { inputs: [x.slice(0, 2), x.slice(2, 4)], outputs: [y[0], y[2], op] };
  }
  @Operation('describe')
  describe(): unknown {
    return { kind: 'rows', at: new Date(0) };
  }
}

const WHEN = MLRUN_WHEN;
const fp32 = (id: string, data: number[]) => ({ id, inputs: [{ name: 'x', datatype: 'FP32', shape: [data.length], data }] });

describe('monitoring to a JSON-lines file (MLRun records)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nms-monitoring-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('100 valid and 5 invalid requests give exactly 105 records (client errors logged when asked), ids and fields as MLRun reads them', async () => {
    const path = join(dir, 'echo.jsonl');
    const app = await monitoredApp([{ name: 'echo', model: EchoFixture, versions: [{ version: '1' }, { version: '2' }] }], {
      logStream: `file://${path}`,
      processMetrics: false,
      logClientErrors: true,
    });
    const started = Date.now();
    for (let i = 0; i < 100; i++) {
      const res = await send(app, 'POST', '/v2/models/echo/infer', fp32(`ok-${i}`, [i, 0.5]));
      expect(res.status).toBe(200);
    }
    const invalid: [string, unknown, string?][] = [
      ['bad-json', '{"inputs": [', 'application/json'],
      ['no-inputs', { id: 'no-inputs', parameters: {} }],
      ['shape', { id: 'shape', inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2] }] }],
      ['dtype', { id: 'dtype', inputs: [{ name: 'x', datatype: 'FP33', shape: [1], data: [1] }] }],
      ['range', { id: 'range', inputs: [{ name: 'x', datatype: 'UINT8', shape: [1], data: [300] }] }],
    ];
    for (const [, body, type] of invalid) {
      const res = await send(app, 'POST', '/v2/models/echo/versions/1/infer', body, type ? { 'content-type': type } : {});
      expect(res.status).toBe(400);
    }
    await app.close(); // flushes the pipe
    const records = readRecords(path);
    expect(records).toHaveLength(105);

    const ok = records.filter((r) => r.error === undefined);
    expect(ok.map((r) => r.request.id)).toEqual(Array.from({ length: 100 }, (_, i) => `ok-${i}`));
    const first = ok[0];
    expect(Object.keys(first)).toEqual(['class', 'model_class', 'worker', 'model', 'version', 'host', 'function_uri', 'endpoint_id', 'request', 'op', 'resp', 'when', 'microsec']);
    expect(first).toMatchObject({
      class: 'EchoFixture',
      model_class: 'EchoFixture',
      worker: 0,
      model: 'echo',
      version: '2',
      function_uri: 'default/model-server',
      op: 'infer',
      request: { id: 'ok-0', inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [0, 0.5] }] },
      resp: { model_name: 'echo', model_version: '2', id: 'ok-0', outputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [0, 0.5] }] },
    });
    expect(typeof first.host).toBe('string');
    expect(first.when).toMatch(WHEN);
    expect(Date.parse(first.when.replace(' ', 'T'))).toBeGreaterThanOrEqual(started - 1);
    expect(Number.isInteger(first.microsec) && first.microsec > 0).toBe(true);

    const failed = records.filter((r) => r.error !== undefined);
    expect(failed).toHaveLength(5);
    for (const r of failed) {
      expect(Object.keys(r)).toEqual(['class', 'model_class', 'worker', 'model', 'version', 'host', 'function_uri', 'endpoint_id', 'request', 'op', 'when', 'error', 'error_code']);
      expect(r).toMatchObject({ model: 'echo', version: '1', op: 'infer', error_code: 'INVALID_REQUEST' });
      expect(r.when).toMatch(WHEN);
      expect(typeof r.request.id).toBe('string');
      expect(r.resp).toBeUndefined();
      expect(r.microsec).toBeUndefined();
    }
    expect(failed.map((r) => r.request.id).slice(1)).toEqual(['no-inputs', 'shape', 'dtype', 'range']);
    expect(failed[0].error).toMatch(/malformed JSON/);
    expect(failed[2].error).toMatch(/shape|elements/);
    expect(failed[2].request.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2] }]);
    expect(failed[4].error).toMatch(/300/);
  });

  it('error records carry the request as the client sent it: a body that does not parse as its text (clipped), one that parses as sent', async () => {
    const long = '{"inputs": [' + 'x'.repeat(1_000_000);
    const refused: [unknown, string?][] = [
      ['{"inputs": [', 'application/json'],
      [long, 'application/json'],
      [{ id: 'parsed', parameters: { note: 'kept' }, inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2] }] }],
      [{ id: 'structure', inputs: 'nope', extra: 1 }],
    ];
    const sentAs = async (format: 'mlrun' | 'cloudevents'): Promise<Record<string, any>[]> => {
      const path = join(dir, `refused-${format}.jsonl`);
      const app = await monitoredApp([{ name: 'echo', model: EchoFixture }], { logStream: `file://${path}`, format, processMetrics: false, logClientErrors: true });
      for (const [body, type] of refused) expect((await send(app, 'POST', '/v2/models/echo/infer', body, type ? { 'content-type': type } : {})).status).toBe(400);
      await app.close();
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
      // Bounded whatever the client sent: the megabyte body is quoted, not echoed.
      for (const line of lines) expect(line.length).toBeLessThan(2000);
      return lines.map((line) => JSON.parse(line));
    };
    const quoted = `${long.slice(0, MAX_QUOTED_CHARS)}… (${long.length} bytes)`;
    const expected = (ids: string[]) => [
      { id: ids[0], body: '{"inputs": [' },
      { id: ids[1], body: quoted },
      { id: 'parsed', parameters: { note: 'kept' }, inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2] }] },
      { id: 'structure', inputs: 'nope', extra: 1 },
    ];

    const records = await sentAs('mlrun');
    expect(records.map((r) => r.error_code)).toEqual(Array(4).fill('INVALID_REQUEST'));
    const ids = records.map((r) => r.request.id);
    expect(ids.slice(0, 2).every((id) => typeof id === 'string' && id !== '')).toBe(true);
    expect(records.map((r) => r.request)).toEqual(expected(ids));

    // KServe CloudEvents: the request event's data is the same request as sent, its id the event's.
    const events = await sentAs('cloudevents');
    expect(events.map((e) => e.type)).toEqual(Array(4).fill('org.kubeflow.serving.inference.request'));
    expect(events.map((e) => e.data)).toEqual(expected(events.map((e) => e.id)));
  });

  it('carries labels, model and request metrics, statistics, traceparent, loggedResults rows and every op', async () => {
    const path = join(dir, 'rows.jsonl');
    const app = await monitoredApp(
      [
        { name: 'rows', model: RowsModel, labels: { team: 'risk', tier: 'gold' }, versions: [{ version: 'v2' }] },
        { name: 'sum', model: SumFixture },
        { name: 'buggy', model: BuggyFixture },
      ],
      { logStream: path, functionUri: 'fraud/serving:latest', host: 'pod-abc', worker: 3, processMetrics: false },
    );
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect((await send(app, 'POST', '/v2/models/rows/infer', fp32('r1', [1, 2, 3, 4]), { traceparent })).status).toBe(200);
    expect((await send(app, 'POST', '/v2/models/sum/explain', fp32('e1', [1, 2]))).status).toBe(200);
    expect((await send(app, 'POST', '/v2/models/rows/describe', { anything: true })).status).toBe(200);
    expect((await send(app, 'POST', '/v2/models/buggy/infer', fp32('b1', [1]))).status).toBe(500);
    expect((await send(app, 'POST', '/v2/models/sum/infer', fp32('neg', [-1]))).status).toBe(400);
    await app.close();
    // No record for the custom operation nor for the request its model's validate refused (a client's mistake).
    const records = readRecords(path);
    expect(records.map((r) => r.op)).toEqual(['infer', 'explain', 'infer']);
    const [rows, explain, bug] = records;

    expect(rows).toEqual({
      class: 'RowsModel',
      model_class: 'RowsModel',
      worker: 3,
      model: 'rows',
      version: 'v2',
      host: 'pod-abc',
      function_uri: 'fraud/serving:latest',
      endpoint_id: expect.stringMatching(/^[0-9a-f]{40}$/),
      labels: { team: 'risk', tier: 'gold' },
      request: { id: 'r1', inputs: [[1, 2], [3, 4]] },
      op: 'infer',
      resp: { id: 'r1', outputs: [10, 30, 'infer'] },
      when: expect.stringMatching(WHEN),
      microsec: expect.any(Number),
      metrics: { accuracy: 0.97, confidence: 0.5 },
      statistics: { rows: 4, source: 'unit' },
      traceparent,
    });
    expect(explain).toMatchObject({ model: 'sum', version: '', op: 'explain', resp: { outputs: [{ name: 'contributions', data: [1, 2] }] } });
    expect(explain.labels).toBeUndefined();
    expect(explain.metrics).toBeUndefined();
    expect(bug).toMatchObject({ model: 'buggy', op: 'infer', error_code: 'MODEL_ERROR', request: { id: 'b1' } });
    expect(bug.error).toMatch(/reading 'weights'/);
  });

  it('samples every Nth success per model but never a failure; records carry the weight', async () => {
    const path = join(dir, 'sampled.jsonl');
    const app = await monitoredApp([{ name: 'echo', model: EchoFixture }], { logStream: `file://${path}`, sample: 4, processMetrics: false });
    for (let i = 0; i < 10; i++) await send(app, 'POST', '/v2/models/echo/infer', fp32(`s-${i}`, [i]));
    for (let i = 0; i < 3; i++) await send(app, 'POST', '/v2/models/echo/infer', { inputs: 'nope' });
    await app.close();
    const records = readRecords(path);
    expect(records.filter((r) => !r.error).map((r) => [r.request.id, r.sampling_percentage, r._count])).toEqual([
      ['s-0', 25, 4],
      ['s-4', 25, 4],
      ['s-8', 25, 4],
    ]);
    // Refused bodies are client mistakes: counted in metrics, no record unless logClientErrors.
    expect(records.filter((r) => r.error)).toHaveLength(0);
  });

  it('refuses a file it cannot open at boot, and a stream URL it does not know, with the setting to fix', async () => {
    await expect(monitoredApp([{ name: 'echo', model: EchoFixture }], { logStream: `file://${join(dir, 'missing', 'dir', 'x.jsonl')}` })).rejects.toThrow(
      /cannot open the monitoring log file .*missing.*\(LOG_STREAM\)/,
    );
    await expect(monitoredApp([{ name: 'echo', model: EchoFixture }], { logStream: 'kafka://broker:9092/topic' })).rejects.toThrow(
      /logStream: LOG_STREAM 'kafka:\/\/broker:9092\/topic' uses the unsupported scheme 'kafka:\/\/'; use stdout, file:/,
    );
  });
});
