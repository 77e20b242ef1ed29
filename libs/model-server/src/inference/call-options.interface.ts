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
}

/** What a custom operation receives from the transport: a v2 request, or any other body. @publicApi */
export interface OperationInput {
  /** The body as a structurally checked v2 request, when it is one (it has `inputs`). */
  wire?: import('../codecs/wire-tensor.interface').WireInferenceRequest;
  /** The body as sent, when it is not a v2 request. */
  body?: unknown;
}

/** A custom operation's answer: a v2 response when it returned outputs, else its JSON value. @publicApi */
export type OperationOutput = { kind: 'inference'; response: import('../model/inference.interface').InferenceResponse } | { kind: 'value'; value: unknown };
