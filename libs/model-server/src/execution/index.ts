export type { PredictExecutor, ExecutorTarget, ExecutorFactory } from './predict-executor.interface';
export { InProcessExecutor, inProcessExecutor } from './in-process.executor';
