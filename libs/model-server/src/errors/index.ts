export { ErrorCode } from './error-code.enum';
export { ModelServerError, isModelServerError } from './model-server.error';
export type { ModelServerErrorOptions } from './model-server.error';
export * from './errors';
