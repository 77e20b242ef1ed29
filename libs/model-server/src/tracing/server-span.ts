import { SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_RPC_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import { traceparentOf } from './traceparent.util';

/** gRPC codes that are the server's failure (OpenTelemetry's RPC conventions for server spans). */
const GRPC_SERVER_ERRORS = new Set([2, 4, 12, 13, 14, 15]);

/**
 * The server span of one request a transport received (REST, SageMaker, gRPC), made by
 * {@link RequestTracer.serverSpan}. The transport passes {@link context} to the data plane (`CallOptions.traceContext`)
 * and ends the span with the status it answered.
 *
 * @internal
 */
export class ServerSpan {
  private ended = false;

  constructor(
    readonly span: Span,
    /** The context with this span active: the data plane's spans of the request are its children. */
    readonly context: Context,
  ) {}

  /** The span's W3C `traceparent`, for the response (a client finds its trace with it). */
  traceparent(): string {
    return traceparentOf(this.span);
  }

  /** Ends the span with the HTTP status answered (5xx marks it failed, as the HTTP conventions say for servers). */
  endHttp(status: number): void {
    if (this.ended) return;
    this.ended = true;
    const span = this.span;
    if (span.isRecording()) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (status >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span.end();
  }

  /** Ends the span with the gRPC status answered (`name`: its name, e.g. `NOT_FOUND`). */
  endRpc(code: number, name: string): void {
    if (this.ended) return;
    this.ended = true;
    const span = this.span;
    if (span.isRecording()) {
      span.setAttribute(ATTR_RPC_STATUS_CODE, name);
      if (GRPC_SERVER_ERRORS.has(code)) {
        span.setAttribute(ATTR_ERROR_TYPE, name);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span.end();
  }
}
