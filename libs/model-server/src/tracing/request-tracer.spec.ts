import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { RequestTracer, tracerRegistered } from './request-tracer';

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
});
