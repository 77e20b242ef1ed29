import type { InferenceResponse } from './inference.interface';
import type { ModelCallOptions, ModelCallRequest } from './model-caller.interface';
import type { Parameters } from './tensor.interface';

/** Sends a nested request on behalf of a request (the data plane provides it). @internal */
export type NestedCall = (name: string, request: ModelCallRequest, options: ModelCallOptions | undefined, parent: RequestContext) => Promise<InferenceResponse>;

/** Tells a request that its client went away (a transport's connection or call). @publicApi */
export interface CancellationSource {
  /** Calls `listener` once if the client goes away before the request has been answered. */
  onCancel(listener: () => void): void;
}

/** Why a request's signal fired. */
class RequestAborted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbortError';
  }
}

/** What a request is doing: inference, explanation or a custom operation's name. @publicApi */
export type RequestOp = 'infer' | 'explain' | (string & {});

/**
 * Per-request facts and scratch space, passed to every hook of one request
 * (`preprocess → validate → predict/explain → postprocess`).
 *
 * @publicApi
 */
export class RequestContext {
  /** Values set with {@link setMetric} during this request; they go into its monitoring record. */
  metrics: Record<string, number> | null = null;
  /** Extra statistics for the monitoring record, set with {@link addStatistics}. */
  statistics: Parameters | null = null;
  private controller: AbortController | null = null;
  private abortReason: Error | null = null;
  private scratch: Record<string, unknown> | null = null;

  constructor(
    /** The request id (the client's, or a generated one). */
    readonly id: string,
    /** `infer`, `explain` or the custom operation's name. */
    readonly op: RequestOp,
    /** Absolute deadline in epoch milliseconds, if the request has one. */
    readonly deadline: number | undefined,
    /** Request headers the transport chose to pass on (lower-case names), e.g. `traceparent`. */
    readonly headers: Readonly<Record<string, string>> | undefined,
    /** How many model-to-model calls deep this request is (0 for a client's request). */
    readonly depth: number = 0,
    private readonly nestedCall: NestedCall | null = null,
    private readonly cancellation: CancellationSource | undefined = undefined,
    private readonly parent: RequestContext | undefined = undefined,
  ) {}

  /** Free scratch space shared by the hooks of this request only (made on first use). */
  get state(): Record<string, unknown> {
    return (this.scratch ??= {});
  }

  /**
   * Fires when the request's deadline passes or its client goes away (for a nested call: when its parent's
   * does). Pass it to anything that can stop early: `fetch`, timers, a session run. Created on first use,
   * so requests whose model never looks at it pay nothing.
   */
  get signal(): AbortSignal {
    if (this.controller === null) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.abortReason !== null) {
        controller.abort(this.abortReason);
      } else {
        this.cancellation?.onCancel(() => this.abort('the client went away'));
        if (this.parent !== undefined) {
          const parentSignal = this.parent.signal;
          if (parentSignal.aborted) controller.abort(parentSignal.reason);
          else parentSignal.addEventListener('abort', () => controller.abort(parentSignal.reason), { once: true });
        }
      }
    }
    return this.controller.signal;
  }

  /** True once the deadline passed or the client went away. */
  get aborted(): boolean {
    return this.abortReason !== null || (this.controller?.signal.aborted ?? false);
  }

  /** Fires the signal (the data plane calls it when the deadline passes). @internal */
  abort(why: string): void {
    if (this.abortReason !== null) return;
    this.abortReason = new RequestAborted(`request ${this.id} aborted: ${why}`);
    this.controller?.abort(this.abortReason);
  }

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
