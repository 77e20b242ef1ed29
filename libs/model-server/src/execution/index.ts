export type { PredictExecutor, ExecutorTarget, ExecutorFactory, ExecutorObserver } from './predict-executor.interface';
export { NO_OBSERVER } from './predict-executor.interface';
export { InProcessExecutor, inProcessExecutor } from './in-process.executor';
