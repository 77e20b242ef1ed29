import { performance } from 'node:perf_hooks';
import { errorDetail } from '../errors';
import type { ModelServerError } from '../errors/model-server.error';
import type { InferenceRequest } from '../model/inference.interface';
import type { RequestContext } from '../model/request-context';
import type { InferenceEventStream } from './inference-event-stream';
import type { InferenceEvent, StageTimings } from './inference-event.interface';
import type { StreamFacts } from './response-stream';
import type { ModelVersion } from '../repository/model-version';
import type { CallOptions } from './call-options.interface';
import type { RequestSpans } from '../tracing/request-spans';

/** A stage of one request's journey through the data plane (its timings are kept under this name). @internal */
export type Stage = keyof StageTimings;

/** The facts of one request its monitoring event is built from (only kept when something subscribes). @internal */
export interface Trace {
  readonly mv: ModelVersion;
  ctx: RequestContext;
  readonly call: CallOptions;
  readonly startedAt: number;
  readonly start: number;
  readonly stages: StageTimings;
  request: InferenceRequest | undefined;
  rawRequest: unknown;
  response: unknown;
  error: ModelServerError | undefined;
  /** The request's spans, when it is traced. */
  spans: RequestSpans | null;
  /** A streaming request's facts, once it ended. */
  stream?: StreamFacts;
  /** A stream's response (its parts assembled), made only if a subscriber reads the event's `response`. */
  assemble?: () => unknown;
  /** The stage the request failed in, once admitted (undefined for one refused before it ran). */
  failedStage?: Stage;
}

/** @internal */
export function startTrace(mv: ModelVersion, ctx: RequestContext, call: CallOptions, raw: unknown): Trace {
  return {
    mv,
    ctx,
    call,
    startedAt: Date.now(),
    start: performance.now(),
    stages: {},
    request: undefined,
    rawRequest: raw,
    response: undefined,
    error: undefined,
    spans: null,
  };
}

/** Records the stage's duration when tracing, and returns the new stage start. @internal */
export function lap(trace: Trace | null, stage: Stage, since: number): number {
  if (trace === null) return since; // stage times are only kept for monitoring
  const now = performance.now();
  trace.stages[stage] = now - since;
  return now;
}

/** Emits the request's one monitoring event. @internal */
export function finishTrace(events: InferenceEventStream, trace: Trace): void {
  const { mv, ctx, error, request, call, spans } = trace;
  const modelMetrics = mv.instance?.context.metrics;
  const event: InferenceEvent = {
    id: ctx.id,
    model: mv.name,
    version: mv.version,
    modelClass: mv.className,
    op: ctx.op,
    protocol: call.protocol,
    startedAt: trace.startedAt,
    durationMs: performance.now() - trace.start,
    stages: trace.stages,
    status: error === undefined ? 'ok' : 'error',
    request,
    // The client's text stands for the request only when no hook could have changed what the model got.
    // A failed request's record shows what the client sent.
    requestText: error !== undefined || (request !== undefined && mv.hooks?.preprocess === null && mv.hooks.validate === null) ? call.requestText : undefined,
    form: call.form,
    failedStage: trace.failedStage,
    rawRequest: trace.rawRequest,
    response: trace.response,
    errorCode: error?.code,
    // The server's record: the model's own error text included (clients get it only in debug mode).
    error: error === undefined ? undefined : errorDetail(error),
    metrics: ctx.metrics === null ? { ...modelMetrics } : { ...modelMetrics, ...ctx.metrics },
    requestMetrics: ctx.metrics ?? undefined,
    statistics: ctx.statistics ?? undefined,
    labels: mv.config.labels,
    // A traced request's own span (its trace as exported); else the caller's, as received.
    traceparent: spans === null ? call.headers?.traceparent : spans.traceparent(),
    traceId: spans === null ? undefined : spans.traceId,
    spanId: spans === null ? undefined : spans.spanId,
    stream: trace.stream,
  };
  if (trace.assemble !== undefined) lazyResponse(event, trace.assemble);
  events.emit(event);
}

/** The event's `response`, made once on first read (a stream's parts assembled: most subscribers never read it). */
function lazyResponse(event: InferenceEvent, make: () => unknown): void {
  let made = false;
  let value: unknown;
  Object.defineProperty(event, 'response', {
    enumerable: true,
    configurable: true,
    get() {
      if (!made) {
        made = true;
        value = make();
      }
      return value;
    },
    set(v: unknown) {
      made = true;
      value = v;
    },
  });
}
