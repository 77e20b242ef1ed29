import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { RequestContext } from '../model/request-context';
import type { ExecutorTarget, PredictExecutor } from './predict-executor.interface';

/** Runs `predict` on the calling thread, one call per request. @publicApi */
export class InProcessExecutor implements PredictExecutor {
  private readonly predict: ExecutorTarget['predict'];

  constructor(target: ExecutorTarget) {
    this.predict = target.predict;
  }

  run(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> | InferenceResult {
    // As predict answers: a synchronous model's result costs no promise and no turn of the loop; what it throws, the caller catches.
    return this.predict(request, ctx);
  }

  async close(): Promise<void> {}
}

/** An {@link ExecutorFactory} that always runs in process, ignoring `workers` and batching settings. @publicApi */
export function inProcessExecutor(target: ExecutorTarget): PredictExecutor {
  return new InProcessExecutor(target);
}
