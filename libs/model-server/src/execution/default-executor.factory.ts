import type { BatchClock } from './batch-clock.interface';
import { AdaptiveBatcher } from './adaptive-batcher';
import { readExecutionOptions } from './execution-options.util';
import { InProcessExecutor } from './in-process.executor';
import type { ExecutorFactory, ExecutorTarget, PredictExecutor } from './predict-executor.interface';
import { WorkerPoolExecutor } from './worker-pool.executor';
import { versionLabel } from '../errors';

/** Overrides for {@link createExecutorFactory}. @publicApi */
export interface ExecutorFactoryOptions {
  /** The adaptive batcher's time source (tests pass a manual clock). */
  clock?: BatchClock;
}

/**
 * Builds the executor factory that reads each model's execution settings (`workers`, `maxBatchSize`,
 * `maxLatencyMs`, `maxQueue`, `loadInMainThread`) and composes: worker threads or the main thread, with the
 * adaptive batcher in front when `maxBatchSize` > 1.
 *
 * @publicApi
 */
export function createExecutorFactory(overrides: ExecutorFactoryOptions = {}): ExecutorFactory {
  return (target: ExecutorTarget): PredictExecutor => {
    const options = readExecutionOptions(target.config, `model ${versionLabel(target.name, target.version)}`);
    const inner: PredictExecutor = options.workers > 0 ? new WorkerPoolExecutor(target, options) : new InProcessExecutor(target);
    if (options.maxBatchSize <= 1) return inner;
    return new AdaptiveBatcher(inner, target, { ...options, clock: overrides.clock });
  };
}

/** The default {@link ExecutorFactory} of `ModelServerModule`: see {@link createExecutorFactory}. @publicApi */
export const defaultExecutorFactory: ExecutorFactory = createExecutorFactory();
