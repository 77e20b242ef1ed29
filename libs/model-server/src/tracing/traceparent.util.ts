import type { Span, SpanContext } from '@opentelemetry/api';
import { DroppedRoot } from './dropped-root';

/** The W3C trace-context header (and gRPC metadata key) that carries a span's trace and span ids. @internal */
export const TRACEPARENT = 'traceparent';

/** The W3C `traceparent` of a span: version 00, trace id, span id, sampled flag. @internal */
export function formatTraceparent({ traceId, spanId, traceFlags }: SpanContext): string {
  return `00-${traceId}-${spanId}-${traceFlags & 1 ? '01' : '00'}`;
}

/** The W3C `traceparent` of `span`: written already for a new trace the server dropped, else made from its ids. @internal */
export function traceparentOf(span: Span): string {
  return span instanceof DroppedRoot ? span.traceparent : formatTraceparent(span.spanContext());
}
