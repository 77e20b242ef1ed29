import type { PredictExecutor } from '../execution/predict-executor.interface';
import type { ModelHooks } from '../model/model-hooks';
import type { ModelServerError } from '../errors/model-server.error';
import type { ModelServer } from '../model/model-server';
import type { ResolvedSageMakerHooks } from '../model/sagemaker-hooks';

/**
 * One loaded generation of a model version: its instance, hooks, executor, operations and SageMaker hooks, and
 * the requests running on it. A request holds the generation it entered for its whole journey, so a reload or an unload that
 * happens meanwhile never pulls the instance from under it: the generation is released only once its requests
 * have left (or a bounded wait is over).
 *
 * @internal
 */
export class LoadedModel {
  private running = 0;
  private waiters: (() => void)[] = [];

  constructor(
    readonly instance: ModelServer,
    readonly hooks: ModelHooks,
    readonly executor: PredictExecutor,
    readonly operations: ReadonlyMap<string, string | symbol>,
    /** Its SageMaker hooks, read at load (or the problem with their declaration). */
    readonly sageMaker: ResolvedSageMakerHooks | ModelServerError,
    /** Whether `instance.load()` ran in this thread (not when worker threads load the model instead). */
    readonly loadedHere: boolean,
  ) {}

  /** A request (or a health check) runs on the generation until it {@link leave}s. */
  enter(): void {
    this.running++;
  }

  /** Requests (and health checks) running on this generation now. */
  get inFlight(): number {
    return this.running;
  }

  /** A request left; the last one wakes whoever waits to release the generation. */
  leave(): void {
    if (--this.running === 0 && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves true once no request runs on the generation, or false when `ms` passed first. */
  drained(ms: number): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      }, ms);
      this.waiters.push(wake);
    });
  }
}
