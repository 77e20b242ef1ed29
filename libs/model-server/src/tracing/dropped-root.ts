import type { Attributes, AttributeValue, Exception, Link, Span, SpanContext, SpanStatus, TimeInput } from '@opentelemetry/api';

/**
 * The span of a new trace the server dropped: non-recording, as the API's own non-recording span, and carrying its
 * `traceparent` already written. Its ids and `traceparent` are cut from one string written per draw of ids, so the
 * answer's header is neither built nor flattened per request (docs/observability.md, 'Sampling and what it costs').
 *
 * @internal
 */
export class DroppedRoot implements Span {
  constructor(
    private readonly context: SpanContext,
    /** The span's W3C `traceparent` (sampled flag off). */
    readonly traceparent: string,
  ) {}

  spanContext(): SpanContext {
    return this.context;
  }
  setAttribute(_key: string, _value: AttributeValue): this {
    return this;
  }
  setAttributes(_attributes: Attributes): this {
    return this;
  }
  addEvent(_name: string, _attributesOrStartTime?: Attributes | TimeInput, _startTime?: TimeInput): this {
    return this;
  }
  addLink(_link: Link): this {
    return this;
  }
  addLinks(_links: Link[]): this {
    return this;
  }
  setStatus(_status: SpanStatus): this {
    return this;
  }
  updateName(_name: string): this {
    return this;
  }
  end(_endTime?: TimeInput): void {}
  isRecording(): boolean {
    return false;
  }
  recordException(_exception: Exception, _time?: TimeInput): void {}
}
