export { TestServer, TestServerError, createTestServer } from './test-server';
export type { TestResponse, TestCallOptions, TestInferenceResponse } from './test-server';
