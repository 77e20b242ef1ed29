import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SamplingDecision,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { PromiseContextManager } from './promise-context-manager';
import { RequestTracer } from './request-tracer';
import { DroppedRoot } from './dropped-root';
import { RootSampler } from './root-sampler';
import { formatTraceparent, traceparentOf } from './traceparent.util';

const HEADERS = { keys: (c: Record<string, string>) => Object.keys(c), get: (c: Record<string, string>, k: string) => c[k] };

/** The trace id of each decision and whether it was kept: a kept one is the id the SDK's next root takes. */
function decide(roots: RootSampler, n: number): { traceId: string; kept: boolean }[] {
  const out = [];
  for (let i = 0; i < n; i++) {
    const dropped = roots.dropOrChoose();
    if (dropped === undefined) out.push({ traceId: roots.idGenerator.generateTraceId(), kept: true });
    else out.push({ traceId: dropped.spanContext().traceId, kept: false });
  }
  return out;
}

describe('RootSampler', () => {
  afterEach(() => {
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it.each([0, 0.01, 0.3, 1])('keeps exactly the traces the SDK\'s ratio sampler keeps (ratio %p)', (ratio) => {
    const roots = new RootSampler(ratio);
    const sdk = new TraceIdRatioBasedSampler(ratio);
    // More than one pool's worth, so ids come from a refilled pool too.
    const decisions = decide(roots, 3000);
    for (const { traceId, kept } of decisions) {
      const expected = sdk.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
      if (kept !== expected) throw new Error(`ratio ${ratio}: ${traceId} kept=${kept}, the SDK says ${expected}`);
    }
    const keptShare = decisions.filter((d) => d.kept).length / decisions.length;
    if (ratio === 0 || ratio === 1) expect(keptShare).toBe(ratio);
    else expect(Math.abs(keptShare - ratio)).toBeLessThan(0.05);
  });

  it('gives dropped roots a non-recording span with fresh, valid ids and the sampled flag off', () => {
    const roots = new RootSampler(0);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const span = roots.dropOrChoose()!;
      const { traceId, spanId, traceFlags } = span.spanContext();
      expect(span.isRecording()).toBe(false);
      expect(trace.isSpanContextValid(span.spanContext())).toBe(true);
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(traceFlags).toBe(TraceFlags.NONE);
      expect(seen.has(traceId)).toBe(false);
      seen.add(traceId);
    }
    const ids = roots.idGenerator;
    expect([ids.generateTraceId(), ids.generateSpanId()].map((id) => id.length)).toEqual([32, 16]);
  });

  it('through the request tracer: kept roots are the SDK\'s sampled spans, dropped ones record nothing, a caller\'s trace is continued', () => {
    const ratio = 0.5;
    const roots = new RootSampler(ratio);
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({
        sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
        idGenerator: roots.idGenerator,
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      }),
    );
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.setGlobalContextManager(new PromiseContextManager().enable());
    const tracer = new RequestTracer(true, roots);
    const dropped: string[] = [];
    for (let i = 0; i < 400; i++) {
      const server = tracer.serverSpan('POST /v2/models/{model}/infer', {}, HEADERS);
      const spanContext = server.span.spanContext();
      if (server.span.isRecording()) expect(spanContext.traceFlags).toBe(TraceFlags.SAMPLED);
      else dropped.push(spanContext.traceId);
      // Model code in a dropped request's context makes no span either.
      context.with(server.context, () => trace.getTracer('model').startSpan('model work').end());
      server.endHttp(200);
    }
    const exported = exporter.getFinishedSpans();
    const serverSpans = exported.filter((s) => s.name.startsWith('POST'));
    expect(serverSpans.length + dropped.length).toBe(400);
    expect(serverSpans.length).toBeGreaterThan(120);
    expect(dropped.length).toBeGreaterThan(120);
    // Every exported span belongs to a kept request: the model's spans under kept server spans only.
    const keptTraces = new Set(serverSpans.map((s) => s.spanContext().traceId));
    expect(exported.every((s) => keptTraces.has(s.spanContext().traceId))).toBe(true);
    expect(dropped.some((id) => keptTraces.has(id))).toBe(false);
    expect(exported.filter((s) => s.name === 'model work')).toHaveLength(serverSpans.length);

    // A caller's traceparent goes to the SDK, whatever the ratio would say of a new trace.
    const caller = '0af7651916cd43dd8448eb211c80319c';
    const continued = tracer.serverSpan('POST /v2/models/{model}/infer', { traceparent: `00-${caller}-b7ad6b7169203331-01` }, HEADERS);
    expect(continued.span.isRecording()).toBe(true);
    expect(continued.span.spanContext().traceId).toBe(caller);
  });

  it('writes each dropped root\'s traceparent from its own ids, with the sampled flag off, across draws', () => {
    const roots = new RootSampler(0);
    // More than one draw of new traces (512 a draw).
    for (let i = 0; i < 1200; i++) {
      const span = roots.dropOrChoose()!;
      const { traceId, spanId } = span.spanContext();
      expect(span.traceparent).toBe(`00-${traceId}-${spanId}-00`);
      expect(traceparentOf(span)).toBe(formatTraceparent(span.spanContext()));
    }
  });

  it('reads a request without trace headers as a new trace, and one with baggage only through the propagators', () => {
    propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
    const tracer = new RequestTracer(true, new RootSampler(0));
    const fresh = tracer.serverSpan('POST /v2/models/{model}/infer', { 'content-type': 'application/json' }, HEADERS);
    expect(fresh.span).toBeInstanceOf(DroppedRoot);
    expect(propagation.getBaggage(fresh.context)).toBeUndefined();
    // Baggage without a traceparent: a new trace, and the baggage reaches the request's context.
    const withBaggage = tracer.serverSpan('POST /v2/models/{model}/infer', { baggage: 'tenant=acme' }, HEADERS);
    expect(withBaggage.span.isRecording()).toBe(false);
    expect(propagation.getBaggage(withBaggage.context)?.getEntry('tenant')?.value).toBe('acme');
    // An unsampled caller's trace is continued, not replaced by a new one.
    const caller = '0af7651916cd43dd8448eb211c80319c';
    const unsampled = tracer.serverSpan('POST /v2/models/{model}/infer', { traceparent: `00-${caller}-b7ad6b7169203331-00` }, HEADERS);
    expect(unsampled.span.spanContext().traceId).toBe(caller);
    expect(unsampled.traceparent()).toMatch(new RegExp(`^00-${caller}-[0-9a-f]{16}-00$`));
  });
});
