import type { SpanContext } from '@opentelemetry/api';

/** The W3C `traceparent` of a span: version 00, trace id, span id, sampled flag. @internal */
export function formatTraceparent({ traceId, spanId, traceFlags }: SpanContext): string {
  return `00-${traceId}-${spanId}-${traceFlags & 1 ? '01' : '00'}`;
}
