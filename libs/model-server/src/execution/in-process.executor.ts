import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { RequestContext } from '../model/request-context';
import type { ExecutorTarget, PredictExecutor } from './predict-executor.interface';

/** Runs `predict` on the calling thread, one call per request. @publicApi */
export class InProcessExecutor implements PredictExecutor {
  private readonly predict: ExecutorTarget['predict'];

  constructor(target: ExecutorTarget) {
    this.predict = target.predict;
  }

  async run(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> {
    return this.predict(request, ctx);
  }

  async close(): Promise<void> {}
}

/** The default {@link ExecutorFactory}. @publicApi */
export function inProcessExecutor(target: ExecutorTarget): PredictExecutor {
  return new InProcessExecutor(target);
}
