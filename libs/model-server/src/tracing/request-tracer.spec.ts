import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { RequestTracer, tracerRegistered } from './request-tracer';
import type { WorkerSpanData } from './worker-span.interface';

describe('RequestTracer', () => {
  afterEach(() => trace.disable());

  it('is off, and makes nothing, while no SDK is registered', () => {
    expect(tracerRegistered()).toBe(false);
    const tracer = new RequestTracer();
    expect(tracer.on).toBe(false);
    expect(tracer.requestSpans({ op: 'infer', model: 'iris', version: undefined, id: 'r1' }, undefined, undefined)).toBeNull();
    expect(tracer.current()).toBeUndefined();
  });

  it('is on once an SDK is registered, and keeps what it found when it was made', () => {
    const before = new RequestTracer();
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    expect(tracerRegistered()).toBe(true);
    const tracer = new RequestTracer();
    expect([before.on, tracer.on]).toEqual([false, true]);
    // A call outside any request starts a trace of its own, with the model attributes.
    const spans = tracer.requestSpans({ op: 'infer', model: 'iris', version: '2', id: 'r1' }, undefined, context.active());
    expect(spans).not.toBeNull();
    spans!.enter('predict');
    spans!.leave('predict', performance.now());
    spans!.close();
    const done = exporter.getFinishedSpans();
    expect(done.map((s) => s.name)).toEqual(['predict', 'infer iris']);
    expect(done[1].attributes).toEqual({ 'inference.model.name': 'iris', 'inference.model.version': '2', 'inference.operation': 'infer', 'inference.request.id': 'r1' });
    expect(done[0].parentSpanContext?.spanId).toBe(done[1].spanContext().spanId);
  });

  it("makes a worker's spans again under their parents, whatever their order and even with equal start times", () => {
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    const tracer = new RequestTracer();
    const request = tracer.requestSpans({ op: 'infer', model: 'iris', version: undefined, id: 'r1' }, undefined, context.active())!;
    const traceId = request.traceId;
    const at: [number, number] = [1_800_000_000, 5_000_000];
    const span = (id: string, name: string, parent: string | undefined): WorkerSpanData => ({
      traceId,
      id,
      parent,
      name,
      kind: 0,
      start: at,
      end: at,
      attributes: {},
      status: { code: 0 },
      events: [],
    });
    // As a worker sends them: in the order they ended, a child before its parent, all in the same millisecond.
    tracer.replay(trace.setSpan(context.active(), request.root), [
      span('c1', 'model lookup', 'p1'),
      span('g1', 'cache read', 'c1'),
      span('p1', 'worker predict', undefined),
      span('x1', 'other trace', undefined),
    ].map((s) => (s.id === 'x1' ? { ...s, traceId: 'f'.repeat(32) } : s)));
    request.close();
    const done = exporter.getFinishedSpans();
    const byName = new Map(done.map((s) => [s.name, s]));
    const parentOf = (name: string): string | undefined => {
      const id = byName.get(name)!.parentSpanContext?.spanId;
      return done.find((s) => s.spanContext().spanId === id)?.name;
    };
    expect(done.map((s) => s.name).sort()).toEqual(['cache read', 'infer iris', 'model lookup', 'worker predict']);
    expect([parentOf('worker predict'), parentOf('model lookup'), parentOf('cache read')]).toEqual(['infer iris', 'worker predict', 'model lookup']);
  });
});
