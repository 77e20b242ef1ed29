/** `nest-model-server/testing`: a model served in process for unit tests of models, and a clock for batching tests. */
import 'reflect-metadata';

export { TestServer, TestServerError, createTestServer } from './test-server';
export type { TestResponse, TestCallOptions, TestInferenceResponse } from './test-server';
// Batching without sleeps: `createExecutorFactory({ clock: new ManualClock() })` as the module's executorFactory.
export { createExecutorFactory } from '../execution/default-executor.factory';
export type { ExecutorFactoryOptions } from '../execution/default-executor.factory';
export { ManualClock } from '../execution/manual-clock';
