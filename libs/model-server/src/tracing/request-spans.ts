import * as otel from '@opentelemetry/api';
import type { Context, Span, Tracer } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { SPAN_ATTRIBUTES } from './span-names';
import { traceparentOf } from './traceparent.util';

/** The API's entry points, read once (its exports are getters). */
const { context, SpanStatusCode, trace } = otel;

/**
 * The spans of one request in the data plane: its request span (the transport's server span, or its own for a
 * nested call) and a child span per stage, opened when the stage starts and ended when it is done. Model code
 * runs with the stage's span active ({@link within}), so its own spans and its `ctx.infer` calls nest under it.
 * A request its caller did not sample records nothing, but its model code still runs in its (unsampled) context,
 * so the model's own spans are not sampled either.
 *
 * @internal
 */
export class RequestSpans {
  private stage: Span | null = null;
  private stageName = '';
  private stageContext: Context;

  constructor(
    private readonly tracer: Tracer,
    /** The request span. */
    readonly root: Span,
    private readonly rootContext: Context,
    /** True when the request span is this request's own (ended here), false for the transport's server span. */
    private readonly own: boolean,
    /** False for a request that is not sampled: no stage spans. */
    private readonly recording: boolean,
  ) {
    this.stageContext = rootContext;
  }

  /** The request span's trace id (for monitoring records and log lines). */
  get traceId(): string {
    return this.root.spanContext().traceId;
  }

  /** The request span's id. */
  get spanId(): string {
    return this.root.spanContext().spanId;
  }

  /** The request span's W3C `traceparent`. */
  traceparent(): string {
    return traceparentOf(this.root);
  }

  /** The stage `name` starts: its span opens under the request span. */
  enter(name: string): void {
    if (!this.recording) return;
    if (this.stage !== null) this.stage.end();
    this.stage = this.tracer.startSpan(name, undefined, this.rootContext);
    this.stageName = name;
    this.stageContext = trace.setSpan(this.rootContext, this.stage);
  }

  /**
   * The stage `name` is done: its span ends. A stage that was not entered (it started with the request) gets its
   * span now, from `since` (a `performance.now()` time).
   */
  leave(name: string, since: number): void {
    if (!this.recording) return;
    const open = this.stage;
    if (open !== null) open.end();
    if (open === null || this.stageName !== name) this.tracer.startSpan(name, { startTime: since }, this.rootContext).end();
    this.stage = null;
    this.stageContext = this.rootContext;
  }

  /** Calls `fn(...args)` with the current stage's span active (model code's spans become its children). */
  within<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    return context.with(this.stageContext, fn, undefined, ...args);
  }

  /** The request took the id its body named (SageMaker's input): the request span says so. */
  renamed(id: string): void {
    if (this.recording) this.root.setAttribute(SPAN_ATTRIBUTES.requestId, id);
  }

  /**
   * The request failed in the current stage: the error goes on the stage's span and the request span, with its
   * catalogue `code` and the server's account of it (`detail`: the model's own error text included).
   */
  fail(code: string, detail: string): void {
    if (!this.recording) return;
    const status = { code: SpanStatusCode.ERROR, message: detail };
    const stage = this.stage;
    if (stage !== null) {
      stage.recordException({ name: code, message: detail, code });
      stage.setStatus(status);
      stage.end();
      this.stage = null;
      this.stageContext = this.rootContext;
    }
    this.root.setAttribute(ATTR_ERROR_TYPE, code);
    this.root.setStatus(status);
  }

  /** The request is over: an open stage's span ends, and the request span when it is the request's own. */
  close(): void {
    if (!this.recording) return;
    if (this.stage !== null) {
      this.stage.end();
      this.stage = null;
    }
    if (this.own) this.root.end();
  }
}
