import { performance } from 'node:perf_hooks';
import { invalidRequest, modelError } from '../errors';
import { isModelServerError, type ModelServerError } from '../errors/model-server.error';
import type { RequestContext } from '../model/request-context';
import type { LoadedModel } from '../repository/loaded-model';
import type { ModelVersion } from '../repository/model-version';
import type { CallOptions } from './call-options.interface';
import type { DeadlineTimer } from './deadline-timer';
import type { RequestSpans } from '../tracing/request-spans';
import { lap, type Stage, type Trace } from './request-trace';

/**
 * One admitted request: the generation it runs on, its context, deadline, trace, spans and the stage it is in.
 * Setting {@link stage} starts the stage (its span opens when tracing); {@link lap} ends it.
 *
 * @internal
 */
export class RequestFrame {
  private current: Stage = 'decode';
  private since: number;

  constructor(
    readonly mv: ModelVersion,
    readonly serving: LoadedModel,
    readonly call: CallOptions,
    public ctx: RequestContext,
    readonly timer: DeadlineTimer | null,
    readonly trace: Trace | null,
    /** The request's spans, when it is traced (an SDK is registered and the request sampled). */
    readonly spans: RequestSpans | null,
  ) {
    this.since = trace === null && spans === null ? 0 : performance.now();
  }

  /** The stage the request is in. */
  get stage(): Stage {
    return this.current;
  }

  set stage(stage: Stage) {
    this.current = stage;
    if (this.spans !== null) this.spans.enter(stage);
  }

  /** Calls model code (a hook, the executor) with the current stage's span active when traced, so its spans nest there. */
  within<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    return this.spans === null ? fn(...args) : this.spans.within(fn, ...args);
  }

  /** `value` (what the current stage started) once it settles, within the request's deadline. */
  wait<T>(value: T | Promise<T>): T | Promise<T> {
    return this.timer === null ? value : this.timer.wait(value, this.stage);
  }

  /** The current stage is done (its duration is kept for monitoring, its span ended when traced). */
  lap(): void {
    if (this.spans !== null) {
      this.spans.leave(this.current, this.since);
      if (this.trace === null) {
        this.since = performance.now();
        return;
      }
    }
    this.since = lap(this.trace, this.current, this.since);
  }
}

/**
 * Gives every failure its catalogue code: coded errors keep theirs; an uncoded error thrown by `validate`
 * is the client's (400); anything else thrown by model code is the model's (500).
 */
export function classify(err: unknown, mv: ModelVersion, stage: Stage, requestId: string): ModelServerError {
  if (isModelServerError(err)) return err;
  if (stage === 'validate') return invalidRequest(err instanceof Error ? err.message : String(err));
  return modelError(mv.label, stage, err, requestId);
}
