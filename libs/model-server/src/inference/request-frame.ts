import { invalidRequest, modelError } from '../errors';
import { isModelServerError, type ModelServerError } from '../errors/model-server.error';
import type { RequestContext } from '../model/request-context';
import type { LoadedModel } from '../repository/loaded-model';
import type { ModelVersion } from '../repository/model-version';
import type { CallOptions } from './call-options.interface';
import type { DeadlineTimer } from './deadline-timer';
import { lap, type Stage, type Trace } from './request-trace';

/** One admitted request: the generation it runs on, its context, deadline, trace and the stage it is in. @internal */
export class RequestFrame {
  stage: Stage = 'decode';
  private since: number;

  constructor(
    readonly mv: ModelVersion,
    readonly serving: LoadedModel,
    readonly call: CallOptions,
    public ctx: RequestContext,
    readonly timer: DeadlineTimer | null,
    readonly trace: Trace | null,
  ) {
    this.since = trace === null ? 0 : performance.now();
  }

  /** `value` (what the current stage started) once it settles, within the request's deadline. */
  wait<T>(value: T | Promise<T>): T | Promise<T> {
    return this.timer === null ? value : this.timer.wait(value, this.stage);
  }

  /** The current stage is done (its duration is kept when tracing). */
  lap(): void {
    this.since = lap(this.trace, this.stage, this.since);
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
