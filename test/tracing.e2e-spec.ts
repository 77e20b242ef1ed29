import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { ModelServer, SPAN_ATTRIBUTES, SPAN_NAMES, type InferenceRequest, type InferenceResult, type RequestContext } from 'nest-model-server';
import { InferenceEventStream, type InferenceEvent } from 'nest-model-server/monitoring';
import { ParallelRun } from 'nest-model-server/routing';
import { SageMakerModule } from 'nest-model-server/sagemaker';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createFastifyAdapter, ModelServerModule } from 'nest-model-server';
import { ThreadedDoubler } from './fixtures/worker-models';
import { createGrpcApp, type GrpcTestApp } from './helpers/grpc-client';
import { createApp, send } from './helpers/test-app';

// The SDK is registered before the server is made: the framework checks once whether one is there.
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN}-01`;
const WORKER_MODULE = join(__dirname, 'fixtures', 'worker-models.ts');

/** Echoes its inputs, with a span of its own (the OpenTelemetry API, as model code uses it) inside predict. */
class SpanningEcho extends ModelServer {
  predict(request: InferenceRequest): InferenceResult {
    return trace.getTracer('model-code').startActiveSpan('lookup table', (span) => {
      span.end();
      return { outputs: request.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: t.data })) };
    });
  }
}

/** Fails in predict. */
class Failing extends ModelServer {
  predict(): InferenceResult {
    throw new Error('the weights are gone');
  }
}

/** Calls `echo` twice with ctx.infer. */
class Caller extends ModelServer {
  async predict(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    await ctx.infer('echo', { inputs: request.inputs });
    const second = await ctx.infer('echo', { inputs: request.inputs });
    return { outputs: second.outputs };
  }
}

const x = (rows = 1) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 2], data: Array.from({ length: rows * 2 }, (_, i) => i) }] });

function spans(): ReadableSpan[] {
  return exporter.getFinishedSpans();
}

function named(name: string, within: ReadableSpan[] = spans()): ReadableSpan[] {
  return within.filter((s) => s.name === name);
}

function childrenOf(parent: ReadableSpan, within: ReadableSpan[] = spans()): ReadableSpan[] {
  const id = parent.spanContext().spanId;
  return within.filter((s) => s.parentSpanContext?.spanId === id);
}

function only(list: ReadableSpan[]): ReadableSpan {
  expect(list).toHaveLength(1);
  return list[0];
}

/** Waits until `check` holds for the finished spans (worker spans are made when the answer comes back). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
}

describe('tracing (OpenTelemetry SDK registered, spans to an in-memory exporter)', () => {
  let t: GrpcTestApp;
  const events: InferenceEvent[] = [];

  beforeAll(async () => {
    t = await createGrpcApp({
      models: [
        { name: 'echo', model: SpanningEcho },
        { name: 'failing', model: Failing },
        { name: 'caller', model: Caller },
        { name: 'batched', model: ThreadedDoubler, maxBatchSize: 2, maxLatencyMs: 2000 },
        { name: 'threaded', model: ThreadedDoubler, modulePath: WORKER_MODULE, workers: 1 },
        { name: 'router', model: ParallelRun, parameters: { members: ['echo', 'threaded'] } },
      ],
    });
    t.app.get(InferenceEventStream).listen((e) => events.push(e));
  });

  afterAll(async () => {
    await t.close();
    await provider.shutdown();
  });

  beforeEach(() => {
    exporter.reset();
    events.length = 0;
  });

  it("continues the caller's traceparent: one server span, the stages under it, the model's own span under predict", async () => {
    const answer = await send(t.app, 'POST', '/v2/models/echo/infer', { id: 'r-1', ...x() }, { traceparent: TRACEPARENT, tracestate: 'vendor=a' });
    expect(answer.status).toBe(200);
    const server = only(named('POST /v2/models/:model/infer'));
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe(TRACE_ID);
    expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server.spanContext().traceState?.get('vendor')).toBe('a');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v2/models/:model/infer',
      'url.path': '/v2/models/echo/infer',
      'http.response.status_code': 200,
      [SPAN_ATTRIBUTES.modelName]: 'echo',
      [SPAN_ATTRIBUTES.operation]: 'infer',
      [SPAN_ATTRIBUTES.requestId]: 'r-1',
    });
    // The answer names the server span, so the client can find its trace.
    expect(answer.headers.traceparent).toBe(`00-${TRACE_ID}-${server.spanContext().spanId}-01`);
    expect(childrenOf(server).map((s) => s.name)).toEqual(['decode', 'predict', 'encode']);
    const predict = only(named('predict'));
    expect(only(childrenOf(predict)).name).toBe('lookup table');
    for (const s of spans()) expect(s.spanContext().traceId).toBe(TRACE_ID);
    // The monitoring event carries the trace: its traceparent names the server span.
    expect(events[0]).toMatchObject({ traceId: TRACE_ID, spanId: server.spanContext().spanId, traceparent: answer.headers.traceparent });
  });

  it('starts a trace when the caller sends none, and names the versioned route', async () => {
    await send(t.app, 'POST', '/v2/models/echo/versions/1/infer', x());
    const server = only(spans().filter((s) => s.kind === SpanKind.SERVER));
    expect(server.name).toBe('POST /v2/models/:model/versions/:version/infer');
    expect(server.parentSpanContext).toBeUndefined();
  });

  it.each([
    ['not a traceparent', 'garbage'],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${CALLER_SPAN}-01`],
    ['an all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE_ID}-${CALLER_SPAN}-01`],
    ['4,000 characters', 'x'.repeat(4000)],
  ])('serves a request whose traceparent is %s, starting a new trace', async (_what, traceparent) => {
    const answer = await send(t.app, 'POST', '/v2/models/echo/infer', x(), { traceparent });
    expect(answer.status).toBe(200);
    const server = only(spans().filter((s) => s.kind === SpanKind.SERVER));
    expect(server.parentSpanContext).toBeUndefined();
    expect(server.spanContext().traceId).not.toBe(TRACE_ID);
    expect(answer.headers.traceparent).toBe(`00-${server.spanContext().traceId}-${server.spanContext().spanId}-01`);
  });

  it('names the route of MLRun\'s /predict and of KServe\'s v1 :predict on their server spans, continuing the caller', async () => {
    await send(t.app, 'POST', '/v2/models/echo/predict', x());
    expect(only(spans().filter((s) => s.kind === SpanKind.SERVER)).name).toBe('POST /v2/models/:model/predict');
    exporter.reset();
    const answer = await send(t.app, 'POST', '/v1/models/echo:predict', { instances: [[1, 2]] }, { traceparent: TRACEPARENT });
    expect(answer.status).toBe(200);
    expect(answer.headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-`));
    const server = only(spans().filter((s) => s.kind === SpanKind.SERVER));
    expect(server.name).toBe('POST /v1/models/{model}:predict');
    expect(server.spanContext().traceId).toBe(TRACE_ID);
    expect(spans().some((s) => s.name === 'predict' && s.parentSpanContext?.spanId === server.spanContext().spanId)).toBe(true);
  });

  it.each([
    ['an infer body', JSON.stringify(x()), 200],
    ['an unreadable body', '{"inputs": [', 400],
  ])("gives MLRun's bare model route one server span, named by its answer, for %s", async (_what, body, status) => {
    const answer = await send(t.app, 'POST', '/v2/models/echo', body, { 'content-type': 'application/json', traceparent: TRACEPARENT });
    expect(answer.status).toBe(status);
    const server = only(spans().filter((s) => s.kind === SpanKind.SERVER));
    expect(server.name).toBe('POST /v2/models/:model');
    expect(server.attributes['http.response.status_code']).toBe(status);
    expect(answer.headers.traceparent).toBe(`00-${TRACE_ID}-${server.spanContext().spanId}-01`);
  });

  it('records a failure on the stage that failed and on the server span, with its status', async () => {
    const answer = await send(t.app, 'POST', '/v2/models/failing/infer', x(), { traceparent: TRACEPARENT });
    expect(answer.status).toBe(500);
    const predict = only(named('predict'));
    expect(predict.status.code).toBe(SpanStatusCode.ERROR);
    // The server's account of the failure (the model's own text), as in the request's monitoring record.
    const exception = predict.events.find((e) => e.name === 'exception')?.attributes;
    expect(exception?.['exception.message']).toMatch(/the weights are gone/);
    expect(exception?.['exception.type']).toBe('MODEL_ERROR');
    const server = only(named('POST /v2/models/:model/infer'));
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.attributes).toMatchObject({ 'http.response.status_code': 500, 'error.type': '500' });
    expect(named('encode')).toHaveLength(0);
  });

  it("nests ctx.infer calls under the caller's predict, each with its own stages", async () => {
    await send(t.app, 'POST', '/v2/models/caller/infer', x(), { traceparent: TRACEPARENT });
    const predict = named('predict').find((s) => s.attributes[SPAN_ATTRIBUTES.modelName] === undefined && childrenOf(s).some((c) => c.name === 'infer echo'));
    expect(predict).toBeDefined();
    const calls = childrenOf(predict!).filter((s) => s.name === 'infer echo');
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.attributes).toMatchObject({ [SPAN_ATTRIBUTES.modelName]: 'echo', [SPAN_ATTRIBUTES.operation]: 'infer' });
      expect(childrenOf(call).map((s) => s.name)).toEqual(['decode', 'predict', 'encode']);
    }
  });

  it('links the batch predict span to every request it served; each request shows its queue wait', async () => {
    const [a, b] = await Promise.all([
      send(t.app, 'POST', '/v2/models/batched/infer', x(1), { traceparent: TRACEPARENT }),
      send(t.app, 'POST', '/v2/models/batched/infer', x(2)),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const batch = only(named(SPAN_NAMES.batchPredict));
    expect(batch.attributes[SPAN_ATTRIBUTES.batchSize]).toBe(2);
    const predicts = named('predict');
    expect(predicts).toHaveLength(2);
    const linked = batch.links.map((l) => l.context.spanId).sort();
    expect(linked).toEqual(predicts.map((p) => p.spanContext().spanId).sort());
    // Each request's predict holds its wait in the batch queue; the batch runs under the first request's.
    for (const p of predicts) expect(childrenOf(p).map((s) => s.name)).toContain(SPAN_NAMES.queueWait);
    expect(predicts.some((p) => childrenOf(p).includes(batch) || childrenOf(p).some((c) => c.spanContext().spanId === batch.spanContext().spanId))).toBe(true);
  });

  it("puts a worker thread's spans in the request's trace, under its predict", async () => {
    const answer = await send(t.app, 'POST', '/v2/models/threaded/infer', x(), { traceparent: TRACEPARENT });
    expect(answer.status).toBe(200);
    await until(() => named(SPAN_NAMES.workerPredict).length > 0);
    const worker = only(named(SPAN_NAMES.workerPredict));
    expect(worker.spanContext().traceId).toBe(TRACE_ID);
    expect(worker.attributes[SPAN_ATTRIBUTES.workerIndex]).toBe(1);
    const predict = only(named('predict'));
    expect(worker.parentSpanContext?.spanId).toBe(predict.spanContext().spanId);
  });

  it("draws a router's request: the members' requests under the router's predict, the worker's spans in the same trace", async () => {
    const answer = await send(t.app, 'POST', '/v2/models/router/infer', x(), { traceparent: TRACEPARENT });
    expect(answer.status).toBe(200);
    await until(() => named(SPAN_NAMES.workerPredict).length > 0);
    const all = spans();
    for (const s of all) expect(s.spanContext().traceId).toBe(TRACE_ID);
    const server = only(named('POST /v2/models/:model/infer', all));
    const routerPredict = only(childrenOf(server, all).filter((s) => s.name === 'predict'));
    expect(childrenOf(routerPredict, all).map((s) => s.name).sort()).toEqual(['infer echo', 'infer threaded']);
    const threaded = only(named('infer threaded', all));
    const memberPredict = only(childrenOf(threaded, all).filter((s) => s.name === 'predict'));
    expect(only(childrenOf(memberPredict, all)).name).toBe(SPAN_NAMES.workerPredict);
  });

  it('serves gRPC ModelInfer under a server span with the RPC attributes, continuing the metadata traceparent', async () => {
    await t.client.call(
      'ModelInfer',
      { model_name: 'echo', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 2] } }] },
      { metadata: { traceparent: TRACEPARENT } },
    );
    const server = only(named('inference.GRPCInferenceService/ModelInfer'));
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server.attributes).toMatchObject({ 'rpc.system.name': 'grpc', 'rpc.method': 'inference.GRPCInferenceService/ModelInfer', 'rpc.status_code': 'OK', [SPAN_ATTRIBUTES.modelName]: 'echo' });
    expect(childrenOf(server).map((s) => s.name)).toEqual(['decode', 'predict', 'encode']);
    const missing = await t.client.fail('ModelInfer', { model_name: 'nope', inputs: [{ name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } }] });
    expect(missing.code).toBe(5);
    expect(only(named('inference.GRPCInferenceService/ModelInfer').filter((s) => s !== server)).attributes['rpc.status_code']).toBe('NOT_FOUND');
  });

  it('traces a request the fast lane answers (the socket door) as one Fastify answers', async () => {
    const app = await createApp({ models: [{ name: 'echo', model: SpanningEcho }] }, 'socket');
    try {
      const answer = await send(app, 'POST', '/v2/models/echo/infer', x(), { traceparent: TRACEPARENT });
      expect(answer.status).toBe(200);
      const server = only(named('POST /v2/models/:model/infer'));
      expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
      // Over a real socket, the span names both ends of the connection.
      const { port } = app.getHttpServer().address() as AddressInfo;
      expect(server.attributes).toMatchObject({ 'client.address': '127.0.0.1', 'server.port': port });
      expect(answer.headers.traceparent).toBe(`00-${TRACE_ID}-${server.spanContext().spanId}-01`);
      expect(childrenOf(server).map((s) => s.name)).toEqual(['decode', 'predict', 'encode']);
    } finally {
      await app.close();
    }
  });

  it('traces SageMaker invocations: POST /invocations, its input and output stages', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ModelServerModule.forRoot({ models: [{ name: 'echo', model: SpanningEcho }] }), SageMakerModule.forRoot({})],
    }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter({}), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    try {
      const answer = await send(app, 'POST', '/invocations', x(), { traceparent: TRACEPARENT });
      expect(answer.status).toBe(200);
      const server = only(named('POST /invocations'));
      expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
      expect(server.attributes).toMatchObject({ 'http.route': '/invocations', 'http.response.status_code': 200, [SPAN_ATTRIBUTES.modelName]: 'echo' });
      expect(answer.headers.traceparent).toBe(`00-${TRACE_ID}-${server.spanContext().spanId}-01`);
      expect(childrenOf(server).map((s) => s.name)).toEqual(['input', 'decode', 'predict', 'encode', 'output']);
    } finally {
      await app.close();
    }
  });

  it('makes no stage spans for a request its caller did not sample', async () => {
    const answer = await send(t.app, 'POST', '/v2/models/echo/infer', x(), { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-00` });
    expect(answer.status).toBe(200);
    expect(spans()).toHaveLength(0);
    expect(answer.headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
  });
});
