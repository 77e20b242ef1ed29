import type { Attributes, HrTime, SpanKind, SpanStatus } from '@opentelemetry/api';

/**
 * A span a worker thread recorded, as it crosses back to the main thread (which makes it again in the request's
 * trace, see `RequestTracer.replay`).
 *
 * @internal
 */
export interface WorkerSpanData {
  /** Its trace. */
  readonly traceId: string;
  /** Its span id in the worker. */
  readonly id: string;
  /** Its parent's span id in the worker (undefined, or not among the spans sent: the request's span). */
  readonly parent: string | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  readonly start: HrTime;
  readonly end: HrTime;
  readonly attributes: Attributes;
  readonly status: SpanStatus;
  readonly events: readonly { name: string; time: HrTime; attributes?: Attributes }[];
}
