import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Counter } from 'prom-client';
import {
  ModelServer,
  ModelServerModule,
  type InferenceResult,
  type ModelServerModuleOptions,
} from 'nest-model-server';
import { GrpcInferenceServer, ModelServerGrpcModule } from 'nest-model-server/grpc';
import {
  InferenceEventStream,
  ModelServerMonitoringModule,
  PrometheusMetrics,
  type ModelServerMonitoringOptions,
} from 'nest-model-server/monitoring';
import type { ExecutorFactory } from '../libs/model-server/src/internal';
import { BrokenFixture, EchoFixture, SumFixture } from './fixtures/test-models';
import { InferenceClient } from './helpers/grpc-client';
import { send } from './helpers/test-app';

/** Sets a model-level metric at load, as model code reports e.g. its validation accuracy. */
class ScoredModel extends ModelServer {
  load(): void {
    this.context.setMetric('accuracy', 0.97);
  }
  predict(): InferenceResult {
    return { outputs: [{ name: 'y', datatype: 'INT32', shape: [1], data: [1] }] };
  }
}

/** Stands in for a batching executor: reports its queue and batch figures to the observer it is given. */
const reportingExecutor: ExecutorFactory = (target) => ({
  run: async (request, ctx) => {
    target.observer.queueDepth(target.name, target.version, 3);
    target.observer.queueWait(target.name, target.version, 4);
    target.observer.batch(target.name, target.version, 8);
    return target.predict(request, ctx);
  },
  close: async () => undefined,
});

async function monitoredApp(options: ModelServerModuleOptions, monitoring: ModelServerMonitoringOptions, grpc = false): Promise<NestFastifyApplication> {
  const imports = [ModelServerModule.forRoot(options), ModelServerMonitoringModule.forRoot(monitoring)];
  if (grpc) imports.push(ModelServerGrpcModule.forRoot({ port: 0, host: '127.0.0.1' }));
  const moduleRef = await Test.createTestingModule({ imports }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** The value of the sample `name{labels}` in an exposition text (labels matched exactly, in any order). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const pairs = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((p) => [p[1], p[2]]));
    if (Object.keys(pairs).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => pairs[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const fp32 = (data: number[], id?: string) => ({ ...(id ? { id } : {}), inputs: [{ name: 'x', datatype: 'FP32', shape: [data.length], data }] });

describe('Prometheus metrics at GET /metrics', () => {
  let app: NestFastifyApplication;
  let client: InferenceClient;
  let text: string;
  let contentType: string;

  beforeAll(async () => {
    app = await monitoredApp(
      {
        models: [
          { name: 'echo', model: EchoFixture, versions: [{ version: '1' }, { version: '2' }] },
          { name: 'sum', model: SumFixture },
          { name: 'scored', model: ScoredModel },
          { name: 'broken', model: BrokenFixture },
        ],
        executorFactory: reportingExecutor,
      },
      {},
      true,
    );
    const custom = new Counter({ name: 'app_cache_hits_total', help: 'Cache hits of the application.', registers: [app.get(PrometheusMetrics).registry] });
    custom.inc(7);
    for (let i = 0; i < 5; i++) expect((await send(app, 'POST', '/v2/models/echo/versions/1/infer', fp32([i]))).status).toBe(200);
    expect((await send(app, 'POST', '/v2/models/echo/infer', '{"inputs": [', { 'content-type': 'application/json' })).status).toBe(400);
    for (let i = 1; i <= 3; i++) expect((await send(app, 'POST', '/v2/models/sum/infer', fp32(Array(i).fill(1)))).status).toBe(200);
    expect((await send(app, 'POST', '/v2/models/sum/infer', fp32([-1]))).status).toBe(400);
    expect((await send(app, 'POST', '/v2/models/sum/explain', fp32([1]))).status).toBe(200);
    expect((await send(app, 'POST', '/v2/models/sum/stats', { free: 'form' })).status).toBe(200);
    // Made-up operation names: 404s that must not become series of their own (a client could make millions).
    for (const op of ['made-up-op-1', 'made-up-op-2']) expect((await send(app, 'POST', `/v2/models/sum/${op}`, fp32([1]))).status).toBe(404);
    expect((await send(app, 'POST', '/v2/models/echo/versions/1/explain', fp32([1]))).status).toBe(404);
    client = new InferenceClient(app.get(GrpcInferenceServer).port);
    await client.call('ModelInfer', { model_name: 'echo', model_version: '2', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] });
    const res = await send(app, 'GET', '/metrics');
    expect(res.status).toBe(200);
    text = res.body;
    contentType = String(res.headers['content-type']);
  });
  afterAll(async () => {
    client.close();
    await app.close();
  });

  it('has no series for operations the model does not have', () => {
    expect(text).not.toMatch(/made-up-op/);
    expect(text).not.toMatch(/model="echo",version="1",op="explain"/);
  });

  it('is Prometheus text format', () => {
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toMatch(/^# HELP nms_requests_total /m);
    expect(text).toMatch(/^# TYPE nms_request_duration_seconds histogram$/m);
  });

  it('counts requests by model, version, op, protocol and status (and the error code)', () => {
    const ok = { model: 'echo', version: '1', op: 'infer', protocol: 'rest', status: 'ok', code: '' };
    expect(sample(text, 'nms_requests_total', ok)).toBe(5);
    expect(sample(text, 'nms_requests_total', { ...ok, version: '2', status: 'error', code: 'INVALID_REQUEST' })).toBe(1);
    expect(sample(text, 'nms_requests_total', { ...ok, version: '2', protocol: 'grpc' })).toBe(1);
    expect(sample(text, 'nms_requests_total', { model: 'sum', version: '', op: 'infer', protocol: 'rest', status: 'ok', code: '' })).toBe(3);
    expect(sample(text, 'nms_requests_total', { model: 'sum', version: '', op: 'infer', protocol: 'rest', status: 'error', code: 'INVALID_REQUEST' })).toBe(1);
    expect(sample(text, 'nms_requests_total', { model: 'sum', version: '', op: 'explain', protocol: 'rest', status: 'ok', code: '' })).toBe(1);
    expect(sample(text, 'nms_requests_total', { model: 'sum', version: '', op: 'stats', protocol: 'rest', status: 'ok', code: '' })).toBe(1);
  });

  it('has latency histograms per request and per stage', () => {
    const labels = { model: 'echo', version: '1', op: 'infer', protocol: 'rest', status: 'ok' };
    expect(sample(text, 'nms_request_duration_seconds_count', labels)).toBe(5);
    expect(sample(text, 'nms_request_duration_seconds_sum', labels)).toBeGreaterThan(0);
    expect(sample(text, 'nms_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(5);
    // Four requests decoded and preprocessed; one failed validation, so three went on (a failed stage is not timed).
    for (const [stage, count] of [['decode', 4], ['preprocess', 4], ['validate', 3], ['predict', 3], ['postprocess', 3], ['encode', 3]] as const) {
      expect(sample(text, 'nms_request_stage_duration_seconds_count', { model: 'sum', version: '', op: 'infer', stage })).toBe(count);
    }
    expect(sample(text, 'nms_request_stage_duration_seconds_count', { model: 'sum', version: '', op: 'explain', stage: 'explain' })).toBe(1);
    expect(sample(text, 'nms_request_stage_duration_seconds_count', { model: 'sum', version: '', op: 'stats', stage: 'operation' })).toBe(1);
  });

  it('shows each model version\'s state and load time', () => {
    expect(sample(text, 'nms_model_state', { model: 'echo', version: '1', state: 'ready' })).toBe(1);
    expect(sample(text, 'nms_model_state', { model: 'echo', version: '1', state: 'loading' })).toBe(0);
    expect(sample(text, 'nms_model_state', { model: 'broken', version: '', state: 'failed' })).toBe(1);
    expect(sample(text, 'nms_model_state', { model: 'broken', version: '', state: 'ready' })).toBe(0);
    expect(sample(text, 'nms_model_load_duration_seconds', { model: 'scored', version: '' })).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'nms_model_load_duration_seconds', { model: 'broken', version: '' })).toBeGreaterThanOrEqual(0);
  });

  it('exposes custom metrics from model code: model-level gauges and per-request sums and counts', () => {
    expect(sample(text, 'nms_model_metric', { model: 'scored', version: '', name: 'accuracy' })).toBe(0.97);
    // SumFixture calls ctx.setMetric('n', length) in predict: 1 + 2 + 3 over three requests.
    expect(text).toMatch(/^# TYPE nms_request_custom_metric summary$/m);
    expect(sample(text, 'nms_request_custom_metric_sum', { model: 'sum', version: '', name: 'n' })).toBe(6);
    expect(sample(text, 'nms_request_custom_metric_count', { model: 'sum', version: '', name: 'n' })).toBe(3);
  });

  it('shows queue and batch figures the executors report', () => {
    expect(sample(text, 'nms_batch_size_count', { model: 'echo', version: '1' })).toBe(5);
    expect(sample(text, 'nms_batch_size_sum', { model: 'echo', version: '1' })).toBe(40);
    expect(sample(text, 'nms_queue_wait_seconds_sum', { model: 'echo', version: '1' })).toBeCloseTo(0.02);
    expect(sample(text, 'nms_queue_depth', { model: 'sum', version: '' })).toBe(3);
  });

  it('has the process metrics and metrics the application registered', () => {
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
    expect(sample(text, 'app_cache_hits_total')).toBe(7);
  });
});

describe('metrics settings', () => {
  it('serve at another path and prefix when configured', async () => {
    const app = await monitoredApp({ models: [{ name: 'echo', model: EchoFixture }] }, { metricsPath: '/internal/metrics', metricsPrefix: 'ms_', processMetrics: false });
    try {
      await send(app, 'POST', '/v2/models/echo/infer', fp32([1]));
      const res = await send(app, 'GET', '/internal/metrics');
      expect(res.status).toBe(200);
      expect(sample(res.body, 'ms_requests_total', { model: 'echo', version: '', op: 'infer', protocol: 'rest', status: 'ok', code: '' })).toBe(1);
      expect(res.body).not.toMatch(/process_cpu/);
      expect((await send(app, 'GET', '/metrics')).status).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('metrics off and no stream: no route, and the data plane builds no events at all', async () => {
    const app = await monitoredApp({ models: [{ name: 'echo', model: EchoFixture }] }, { metrics: false });
    try {
      expect((await send(app, 'GET', '/metrics')).status).toBe(404);
      expect(app.get(InferenceEventStream).active).toBe(false);
      expect(app.get(PrometheusMetrics)).toBeNull();
    } finally {
      await app.close();
    }
  });

  it('refuses bad settings at boot with every problem listed', async () => {
    await expect(
      monitoredApp({ models: [{ name: 'echo', model: EchoFixture }] }, { sample: 0, batchSize: -1, dropPolicy: 'sometimes' as never, functionUri: 'no-project', metricsPath: 'metrics' }),
    ).rejects.toThrow(/sample: sample must not be less than 1[\s\S]*batchSize[\s\S]*dropPolicy[\s\S]*functionUri must look like <project>\/<function>[\s\S]*metricsPath/);
  });
});
