/**
 * What a transport tells the data plane about one call, besides the request itself.
 *
 * @publicApi
 */
export interface CallOptions {
  /** The transport: `rest`, `grpc`, `sagemaker`, `internal`... (monitoring and metrics label). */
  protocol: string;
  /**
   * Absolute deadline, epoch milliseconds, from the client (a timeout header, gRPC's `grpc-timeout`). The
   * model's `timeoutMs` and the server's `requestTimeoutMs` may make it earlier.
   */
  deadline?: number;
  /** Tells the request when its client goes away (the request's signal fires then). */
  cancellation?: import('../model/request-context').CancellationSource;
  /** Request headers passed on to model code and monitoring (lower-case names), e.g. `traceparent`. */
  headers?: Record<string, string>;
  /**
   * The request body as JSON text, exactly as received, when that body is the v2 request itself (REST JSON).
   * Monitoring records log it as it is instead of writing the decoded request out again.
   */
  requestText?: string;
  /**
   * The OpenTelemetry context the request runs in, when it is traced: the transport's server span (which then
   * stands for the request and gets the model attributes) or, for a nested call, the caller's span. Transports
   * set it from `DataPlane.tracer`; without it the data plane continues the active context.
   */
  traceContext?: import('@opentelemetry/api').Context;
  /**
   * The request came in MLRun's form (rows in, plain values out): `predict` may return plain values, which the
   * answer carries as they are, and monitoring records log its rows. Absent for v2 requests.
   */
  form?: 'mlrun';
  /** The whole body an MLRun-form request came in, keys besides `inputs` included: hooks see it as `request.body`. */
  body?: unknown;
}

/** What a custom operation receives from the transport: a v2 request, or any other body. @publicApi */
export interface OperationInput {
  /** The body as a structurally checked v2 request, when it is one (it has `inputs`). */
  wire?: import('../codecs/wire-tensor.interface').WireInferenceRequest;
  /** The body as sent (the whole body, also when it holds a v2 request). */
  body?: unknown;
  /** The HTTP call it came in, when it came over HTTP: method, path and every request header. */
  http?: import('../model/inference.interface').HttpCall;
}

/** A custom operation's answer: a v2 response when it returned outputs, else its JSON value. @publicApi */
export type OperationOutput = { kind: 'inference'; response: import('../model/inference.interface').InferenceResponse } | { kind: 'value'; value: unknown };
