import { context, propagation, ROOT_CONTEXT, trace, type Tracer } from '@opentelemetry/api';
import { AlwaysOffSampler, NodeTracerProvider, ParentBasedSampler, type ReadableSpan, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { contextManagerFor, type TracingContext } from './promise-context-manager';
import { recordFailure } from './request-tracer';
import { SPAN_ATTRIBUTES, SPAN_NAMES, TRACER_NAME } from './span-names';
import type { WorkerSpanData } from './worker-span.interface';

/** A span that ended in the worker, with the `worker predict` span of the request it belongs to. */
interface EndedSpan {
  readonly root: string;
  readonly data: WorkerSpanData;
}

/**
 * Keeps the spans that end in the worker until they are sent with their request's answer. A worker serves several
 * requests at once (an async `predict` that awaits), so each span is filed under its request: the `worker predict`
 * span it descends from (its root).
 */
class Collector implements SpanProcessor {
  /** The root of each started span that has not ended yet (a root is its own). */
  private readonly rootOf = new Map<string, string>();
  private readonly ended: EndedSpan[] = [];

  onStart(span: Span): void {
    const id = span.spanContext().spanId;
    const parent = span.parentSpanContext?.spanId;
    // A span whose parent is not one of the worker's is a request's root: its parent is in the main thread.
    this.rootOf.set(id, (parent === undefined ? undefined : this.rootOf.get(parent)) ?? id);
  }

  onEnd(span: ReadableSpan): void {
    const { traceId, spanId } = span.spanContext();
    const root = this.rootOf.get(spanId) ?? spanId;
    this.rootOf.delete(spanId);
    this.ended.push({
      root,
      data: {
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
      },
    });
  }

  /**
   * The spans of the request whose root is `root`, taken out; spans of requests whose answer has
   * gone (model code that ended a span after its `predict` returned) are dropped: nothing would carry them.
   */
  take(root: string, unsent: ReadonlySet<string>): WorkerSpanData[] {
    const mine: WorkerSpanData[] = [];
    let kept = 0;
    for (const e of this.ended) {
      if (e.root === root) mine.push(e.data);
      else if (unsent.has(e.root)) this.ended[kept++] = e;
    }
    this.ended.length = kept;
    // Spans of the request still open (model code that never ends them) are forgotten with it.
    for (const [id, r] of this.rootOf) if (r === root) this.rootOf.delete(id);
    return mine;
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
 * the thread with the main thread's kind of context manager (so the model's own spans are recorded, and nest, as
 * they would there), each request's `predict` run under a `worker predict` span continuing the request's
 * `traceparent`, and each request's spans sent back to the main thread with its answer ({@link take}), which
 * makes them again in the request's trace. Only sampled requests get spans: the
 * worker never starts a trace of its own.
 *
 * @internal
 */
export class WorkerTracing {
  private readonly collector = new Collector();
  private readonly tracer: Tracer;
  /** The root span of each traced request, by its job, until its answer takes its spans. */
  private readonly rootOfJob = new Map<number, string>();

  constructor(
    private readonly index: number,
    contextKind: TracingContext,
  ) {
    const provider = new NodeTracerProvider({
      sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
      spanProcessors: [this.collector],
    });
    provider.register({ contextManager: contextManagerFor(contextKind) });
    this.tracer = trace.getTracer(TRACER_NAME);
  }

  /**
   * Runs `predict` for request `job`, whose span is `traceparent` (plainly when it has none), under a `worker predict`
   * span; {@link take} then gives the spans it recorded.
   */
  async run<R>(job: number, traceparent: string | undefined, predict: () => R | Promise<R>): Promise<R> {
    if (traceparent === undefined) return predict();
    const parent = propagation.extract(ROOT_CONTEXT, { traceparent });
    const span = this.tracer.startSpan(SPAN_NAMES.workerPredict, { attributes: { [SPAN_ATTRIBUTES.workerIndex]: this.index } }, parent);
    const root = span.spanContext().spanId;
    this.rootOfJob.set(job, root);
    try {
      return await context.with(trace.setSpan(parent, span), predict);
    } catch (err) {
      recordFailure(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  /** The spans request `job` recorded (its `worker predict` span and those under it); undefined when none. */
  take(job: number): WorkerSpanData[] | undefined {
    const root = this.rootOfJob.get(job);
    if (root === undefined) return undefined;
    this.rootOfJob.delete(job);
    const spans = this.collector.take(root, new Set(this.rootOfJob.values()));
    return spans.length === 0 ? undefined : spans;
  }
}
