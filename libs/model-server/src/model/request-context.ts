import type { InferenceResponse } from './inference.interface';
import type { ModelCallOptions, ModelCallRequest } from './model-caller.interface';
import type { Parameters } from './tensor.interface';

/** Sends a nested request on behalf of a request (the data plane provides it). @internal */
export type NestedCall = (name: string, request: ModelCallRequest, options: ModelCallOptions | undefined, parent: RequestContext) => Promise<InferenceResponse>;

/** What a request is doing: inference, explanation or a custom operation's name. @publicApi */
export type RequestOp = 'infer' | 'explain' | (string & {});

/**
 * Per-request facts and scratch space, passed to every hook of one request
 * (`preprocess → validate → predict/explain → postprocess`).
 *
 * @publicApi
 */
export class RequestContext {
  /** Free scratch space shared by the hooks of this request only. */
  readonly state: Record<string, unknown> = {};
  /** Values set with {@link setMetric} during this request; they go into its monitoring record. */
  metrics: Record<string, number> | null = null;
  /** Extra statistics for the monitoring record, set with {@link addStatistics}. */
  statistics: Parameters | null = null;

  constructor(
    /** The request id (the client's, or a generated one). */
    readonly id: string,
    /** `infer`, `explain` or the custom operation's name. */
    readonly op: RequestOp,
    /** Fires when the request's deadline passes or its client goes away. */
    readonly signal: AbortSignal | undefined,
    /** Absolute deadline in epoch milliseconds, if the request has one. */
    readonly deadline: number | undefined,
    /** Request headers the transport chose to pass on (lower-case names), e.g. `traceparent`. */
    readonly headers: Readonly<Record<string, string>> | undefined,
    /** How many model-to-model calls deep this request is (0 for a client's request). */
    readonly depth: number = 0,
    private readonly nestedCall: NestedCall | null = null,
  ) {}

  /**
   * Calls another model in-process on behalf of this request: same checks, hooks and monitoring as a client's
   * request, this request's deadline and signal passed on, nesting depth limited.
   */
  infer(name: string, request: ModelCallRequest, options?: ModelCallOptions): Promise<InferenceResponse> {
    if (this.nestedCall === null) return Promise.reject(new Error('in-process calls are not available here'));
    return this.nestedCall(name, request, options, this);
  }

  /** Records a number for this request's monitoring record (e.g. a confidence or a cache hit). */
  setMetric(name: string, value: number): void {
    (this.metrics ??= {})[name] = value;
  }

  /** Adds custom statistics to this request's monitoring record. */
  addStatistics(values: Parameters): void {
    this.statistics = { ...(this.statistics ?? {}), ...values };
  }

  /** Milliseconds left before the deadline (Infinity without one). */
  remainingMs(): number {
    return this.deadline === undefined ? Infinity : this.deadline - Date.now();
  }
}
