import * as otel from '@opentelemetry/api';
import type { Attributes, Context, Link, Span, TextMapGetter, Tracer } from '@opentelemetry/api';
import { PromiseContextManager, type TracingContext } from './promise-context-manager';
import { RequestSpans } from './request-spans';
import { rootSampler, type RootSampler } from './root-sampler';
import { ServerSpan } from './server-span';
import { withSpan } from './span-only-context';
import { SPAN_ATTRIBUTES, SPAN_NAMES, TRACER_NAME } from './span-names';
import { formatTraceparent, TRACEPARENT } from './traceparent.util';
import type { WorkerSpanData } from './worker-span.interface';

/** The API's entry points, read once: its exports are getters, a call each time they are read. */
const { context, propagation, ProxyTracerProvider, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = otel;

/** The delegate of a tracer provider no SDK was registered with (the API's no-op provider). */
const NO_SDK = new ProxyTracerProvider().getDelegate();

/** True when an OpenTelemetry SDK has registered a tracer provider with the API. @internal */
export function tracerRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NO_SDK;
}

/** The W3C baggage header, read with `traceparent` by the propagators the server's root decisions go with. */
const BAGGAGE = 'baggage';

/** Reads `traceparent` / `tracestate` from a plain headers object (lower-case names). */
const HEADERS_GETTER: TextMapGetter<Readonly<Record<string, string | string[] | undefined>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** What a request span is named and labelled with. */
export interface RequestFacts {
  readonly op: string;
  readonly model: string;
  readonly version: string | undefined;
  readonly id: string;
}

/**
 * The framework's one door to OpenTelemetry: every span it makes starts here (or in the {@link RequestSpans} and
 * {@link ServerSpan} it hands out). Whether an SDK is registered is checked once, when it is made; with none,
 * {@link on} is false and every method returns at once without touching the API, so a server without tracing
 * pays nothing per request. A request that is sampled out gets no stage spans either.
 *
 * @internal
 */
export class RequestTracer {
  /** True when spans are made (an SDK was registered when this tracer was made). */
  readonly on: boolean;
  private readonly tracer: Tracer;
  /** Decides new traces ahead of the SDK, when the CLI set one up ({@link RootSampler}). */
  private readonly roots: RootSampler | undefined;

  constructor(on: boolean = tracerRegistered(), roots: RootSampler | undefined = rootSampler()) {
    this.on = on;
    this.tracer = trace.getTracer(TRACER_NAME);
    this.roots = on ? roots : undefined;
  }

  /**
   * The server span of a request a transport received, continuing the caller's trace (`traceparent`,
   * `tracestate` read with the registered propagator). Call only when {@link on}; set its attributes only when it
   * is recording (a request that is not sampled pays for none).
   */
  serverSpan<C>(name: string, carrier: C, getter: TextMapGetter<C>): ServerSpan {
    const roots = this.roots;
    // With the server's root decisions the propagators are W3C trace context and baggage ({@link useRootSampler}):
    // a request with neither header continues nothing, and is not read through them.
    const fresh = roots !== undefined && getter.get(carrier, TRACEPARENT) === undefined && getter.get(carrier, BAGGAGE) === undefined;
    const parent = fresh ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, carrier, getter);
    // A new trace (the propagators found nothing to continue) is decided ahead of the SDK when it can be.
    const dropped = roots !== undefined && parent === ROOT_CONTEXT ? roots.dropOrChoose() : undefined;
    const span = dropped ?? this.tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
    roots?.settle();
    return new ServerSpan(span, withSpan(parent, span));
  }

  /** {@link serverSpan} for HTTP, its trace context read from the request headers. */
  httpServerSpan(name: string, headers: Readonly<Record<string, string | string[] | undefined>>): ServerSpan {
    return this.serverSpan(name, headers, HEADERS_GETTER);
  }

  /**
   * The spans of one request in the data plane, or null (tracing off, or a nested request that is not sampled).
   * With a transport's server span (`serverContext`), that span is the request span and gets the model attributes;
   * otherwise (a nested `ctx.infer` call, a call from an application's own code) the request gets a span of its
   * own, `<op> <model>`, under `parent` or the active context.
   */
  requestSpans(facts: RequestFacts, serverContext: Context | undefined, parent: Context | undefined): RequestSpans | null {
    if (!this.on) return null;
    if (serverContext !== undefined) {
      const server = trace.getSpan(serverContext);
      if (server === undefined) return null;
      if (!server.isRecording()) return new RequestSpans(this.tracer, server, serverContext, false, false);
      server.setAttributes(modelAttributes(facts));
      return new RequestSpans(this.tracer, server, serverContext, false, true);
    }
    const within = parent ?? context.active();
    const above = trace.getSpan(within);
    if (above !== undefined && !above.isRecording()) return null;
    const span = this.tracer.startSpan(`${facts.op} ${facts.model}`, { kind: SpanKind.INTERNAL, attributes: modelAttributes(facts) }, within);
    if (!span.isRecording()) {
      span.end();
      return null;
    }
    return new RequestSpans(this.tracer, span, trace.setSpan(within, span), true, true);
  }

  /** The active context when it holds a recording span (what a queued request or a nested call continues), else undefined. */
  current(): Context | undefined {
    if (!this.on) return undefined;
    const active = context.active();
    return trace.getSpan(active)?.isRecording() === true ? active : undefined;
  }

  /** How the active context follows async code in this thread (worker threads trace the same way). */
  contextKind(): TracingContext {
    return PromiseContextManager.inUse() ? 'promise' : 'async-local-storage';
  }

  /** Calls `fn(...args)` with `ctx` active (or plainly without one). */
  within<A extends unknown[], R>(ctx: Context | undefined, fn: (...args: A) => R, ...args: A): R {
    return ctx === undefined ? fn(...args) : context.with(ctx, fn, undefined, ...args);
  }

  /** A request's wait in a queue under `parent`, from `since` (a `performance.now()` time) until now. */
  queueWait(parent: Context | undefined, since: number): void {
    if (parent === undefined) return;
    this.tracer.startSpan(SPAN_NAMES.queueWait, { startTime: since }, parent).end();
  }

  /** Starts a request's wait in a queue under `parent` (end it when the wait is over). */
  startQueueWait(parent: Context): Span {
    return this.tracer.startSpan(SPAN_NAMES.queueWait, undefined, parent);
  }

  /**
   * The span of one `predict` on a merged batch, under the first request's context, linked to the context of
   * every request it serves; the context to run the batch in, or undefined when none of them is traced.
   */
  startBatch(requests: readonly (Context | undefined)[]): { span: Span; context: Context } | undefined {
    let lead: Context | undefined;
    const links: Link[] = [];
    for (const ctx of requests) {
      if (ctx === undefined) continue;
      lead ??= ctx;
      const spanContext = trace.getSpanContext(ctx);
      if (spanContext !== undefined) links.push({ context: spanContext });
    }
    if (lead === undefined) return undefined;
    const span = this.tracer.startSpan(SPAN_NAMES.batchPredict, { links, attributes: { [SPAN_ATTRIBUTES.batchSize]: requests.length } }, lead);
    return { span, context: trace.setSpan(lead, span) };
  }

  /** Ends a span this tracer started, failed with `err` when given. */
  end(span: Span, err?: unknown): void {
    if (err !== undefined) recordFailure(span, err);
    span.end();
  }

  /** The W3C `traceparent` of the span in `ctx` (what crosses to a worker thread), or undefined. */
  traceparentOf(ctx: Context | undefined): string | undefined {
    if (ctx === undefined) return undefined;
    const spanContext = trace.getSpanContext(ctx);
    return spanContext === undefined ? undefined : formatTraceparent(spanContext);
  }

  /**
   * Makes again, here, the spans a worker thread recorded for a request: each under the span it had in the worker
   * (made first when it is among them), the others under `parent`. Their order does not matter: start times are
   * whole milliseconds, so a child can carry its parent's. Spans of another trace (model code that ended a span
   * after an earlier request's `predict` returned) are left out: their parents were sent before them.
   */
  replay(parent: Context | undefined, spans: readonly WorkerSpanData[]): void {
    const traceId = parent === undefined ? undefined : trace.getSpanContext(parent)?.traceId;
    if (parent === undefined || traceId === undefined) return;
    const byId = new Map<string, WorkerSpanData>();
    for (const s of spans) if (s.traceId === traceId) byId.set(s.id, s);
    const made = new Map<string, Context>();
    const make = (s: WorkerSpanData): Context => {
      const done = made.get(s.id);
      if (done !== undefined) return done;
      const above = s.parent === undefined ? undefined : byId.get(s.parent);
      const within = above === undefined ? parent : make(above);
      const span = this.tracer.startSpan(s.name, { kind: s.kind, startTime: s.start, attributes: s.attributes }, within);
      for (const e of s.events) span.addEvent(e.name, e.attributes, e.time);
      if (s.status.code !== SpanStatusCode.UNSET) span.setStatus(s.status);
      span.end(s.end);
      const ctx = trace.setSpan(within, span);
      made.set(s.id, ctx);
      return ctx;
    };
    for (const s of byId.values()) make(s);
  }
}

/** Records `err` on `span` (an exception event) and marks the span failed. @internal */
export function recordFailure(span: Span, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  span.recordException(err instanceof Error ? err : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** The model attributes of a request span. */
function modelAttributes(facts: RequestFacts): Attributes {
  const attributes: Attributes = {
    [SPAN_ATTRIBUTES.modelName]: facts.model,
    [SPAN_ATTRIBUTES.operation]: facts.op,
    [SPAN_ATTRIBUTES.requestId]: facts.id,
  };
  if (facts.version !== undefined) attributes[SPAN_ATTRIBUTES.modelVersion] = facts.version;
  return attributes;
}
