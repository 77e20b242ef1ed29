import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { AlwaysOffSampler, NodeTracerProvider, ParentBasedSampler, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { SPAN_ATTRIBUTES, SPAN_NAMES, TRACER_NAME } from './span-names';
import type { WorkerSpanData } from './worker-span.interface';

/** Keeps the spans that end in the worker until they are sent with the next answer. */
class Collector implements SpanProcessor {
  readonly done: WorkerSpanData[] = [];

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const { traceId, spanId } = span.spanContext();
    this.done.push({
      traceId,
      id: spanId,
      parent: span.parentSpanContext?.spanId,
      name: span.name,
      kind: span.kind,
      start: span.startTime,
      end: span.endTime,
      attributes: span.attributes,
      status: span.status,
      events: span.events.map((e) => ({ name: e.name, time: e.time, attributes: e.attributes })),
    });
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Tracing inside a model worker thread, started when the main thread traces: a tracer provider registered in
 * the thread (so the model's own spans are recorded), each request's `predict` run under a `worker predict`
 * span continuing the request's `traceparent`, and the spans that ended sent back to the main thread with the
 * answer ({@link take}), which makes them again in the request's trace. Only sampled requests get spans: the
 * worker never starts a trace of its own.
 *
 * @internal
 */
export class WorkerTracing {
  private readonly collector = new Collector();
  private readonly tracer: Tracer;

  constructor(private readonly index: number) {
    const provider = new NodeTracerProvider({
      sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
      spanProcessors: [this.collector],
    });
    provider.register();
    this.tracer = trace.getTracer(TRACER_NAME);
  }

  /** Runs `predict` for a request whose span is `traceparent` (plainly when it has none) under a `worker predict` span. */
  async run<R>(traceparent: string | undefined, predict: () => R | Promise<R>): Promise<R> {
    if (traceparent === undefined) return predict();
    const parent = propagation.extract(ROOT_CONTEXT, { traceparent });
    const span = this.tracer.startSpan(SPAN_NAMES.workerPredict, { attributes: { [SPAN_ATTRIBUTES.workerIndex]: this.index } }, parent);
    try {
      return await context.with(trace.setSpan(parent, span), predict);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      span.recordException(err instanceof Error ? err : message);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      throw err;
    } finally {
      span.end();
    }
  }

  /** The spans that ended since the last call, in start order; undefined when none did. */
  take(): WorkerSpanData[] | undefined {
    const done = this.collector.done;
    if (done.length === 0) return undefined;
    const spans = done.splice(0, done.length);
    spans.sort((a, b) => a.start[0] - b.start[0] || a.start[1] - b.start[1]);
    return spans;
  }
}
