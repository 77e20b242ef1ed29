import type { ErrorCode } from '../errors/error-code.enum';
import type { InferenceRequest, InferenceResponse } from '../model/inference.interface';
import type { Parameters } from '../model/tensor.interface';
import type { StreamFacts } from './response-stream';

/** Milliseconds spent in each stage of one request; a stage that did not run is absent. @publicApi */
export interface StageTimings {
  /** A transport's own reading of the body inside the data plane (SageMaker's `input` hook or content codecs). */
  input?: number;
  decode?: number;
  preprocess?: number;
  validate?: number;
  predict?: number;
  explain?: number;
  operation?: number;
  postprocess?: number;
  encode?: number;
  /** A transport's own writing of the answer inside the data plane (SageMaker's `output` hook or content codecs). */
  output?: number;
}

/**
 * One request addressed to a known model, as the data plane saw it. Built only when something
 * subscribes to the event stream.
 *
 * @publicApi
 */
export interface InferenceEvent {
  /** The request id (the client's or a generated one). */
  id: string;
  model: string;
  version: string | undefined;
  /** The model's class name. */
  modelClass: string;
  /** `infer`, `explain` or the custom operation's name. */
  op: string;
  /** The transport that carried it: `rest`, `grpc`, `sagemaker`, `internal`... */
  protocol: string;
  /** Epoch milliseconds when the data plane took the request. */
  startedAt: number;
  /** Total milliseconds in the data plane. */
  durationMs: number;
  stages: StageTimings;
  status: 'ok' | 'error';
  /** The request after preprocess/validate (or as decoded, if it failed before). Absent if decoding failed. */
  request: InferenceRequest | undefined;
  /**
   * `request` as the JSON text the client sent (REST JSON bodies), given only when the model has no preprocess
   * or validate hook, so the text is the request the model got, or when the request failed (its record shows what
   * the client sent). Records can log it as it is: numbers keep the client's digits and nesting.
   */
  requestText?: string;
  /** `mlrun` when the request came in MLRun's form (rows in, plain values out); absent for v2 requests. */
  form?: 'mlrun';
  /**
   * The stage a failed request failed in (`decode`, `preprocess`, `validate`, `predict`...); absent for a request
   * refused before it ran (malformed body, failed checks, not ready, overloaded) and for successes.
   */
  failedStage?: keyof StageTimings;
  /**
   * The request as the transport received it, before decoding and hooks (a structurally checked v2 request,
   * an operation's body, or what a refused request carried: its bytes, a `Uint8Array`, when they could not be
   * parsed; undefined when the transport has nothing to show).
   */
  rawRequest: unknown;
  /** The response after postprocess (v2 response, or an operation's JSON value). */
  response: InferenceResponse | unknown;
  errorCode: ErrorCode | undefined;
  error: string | undefined;
  /** Model-level metrics merged with the ones set during this request. */
  metrics: Record<string, number>;
  /** Only the metrics set during this request (`ctx.setMetric`), if any. */
  requestMetrics?: Readonly<Record<string, number>>;
  /** Statistics model code added for this request. */
  statistics: Parameters | undefined;
  labels: Readonly<Record<string, string>>;
  /**
   * W3C trace context of the request: its own span's when it is traced (OpenTelemetry), else the caller's
   * `traceparent`, when it sent one.
   */
  traceparent: string | undefined;
  /** The trace id of the request's span, when it is traced. */
  traceId?: string;
  /** The id of the request's span (the server span, or a nested call's own), when it is traced. */
  spanId?: string;
  /**
   * A streaming request's chunk count, time to first chunk, gaps between chunks and how it ended; its `response`
   * is then the partial results assembled, and `durationMs` the whole stream's time.
   */
  stream?: StreamFacts;
}
