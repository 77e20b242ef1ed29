/** `nest-model-server/testing`: a model served in process, for unit tests of models. */
import 'reflect-metadata';

export { TestServer, TestServerError, createTestServer } from './test-server';
export type { TestResponse, TestCallOptions, TestInferenceResponse } from './test-server';
