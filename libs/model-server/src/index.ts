/**
 * Nest Model Server: serve machine-learning models over the KServe v2 / Open Inference Protocol.
 * The public API, listed by hand.
 */
import 'reflect-metadata';

// Authoring
export { ModelServer, ModelContext, RequestContext, Operation, ModelState, DATATYPES } from './model';
export type {
  ModelClass,
  MaybePromise,
  ModelLogger,
  ModelCaller,
  ModelCallRequest,
  ModelCallOptions,
  RequestOp,
  Datatype,
  TensorData,
  TensorDataMap,
  NumericTypedArray,
  Tensor,
  AnyTensor,
  OutputTensor,
  RequestedOutput,
  TensorSpec,
  Parameters,
  InferenceRequest,
  InferenceResult,
  InferenceResponse,
} from './model';

// Errors
export { ErrorCode, ModelServerError, isModelServerError } from './errors';
export type { ModelServerErrorOptions } from './errors';

// Serving
export { ModelServerModule, MODEL_SERVER_OPTIONS, DEFAULT_MAX_BODY_BYTES } from './module';
export type { ModelServerModuleOptions } from './module';
export type { ModelConfig, ModelVersionConfig, LoadMode } from './repository';
export { DataPlane, ModelCatalog, ServerInfo } from './inference';
export type {
  CallOptions,
  OperationInput,
  OperationOutput,
  ServerMetadata,
  ModelMetadata,
  ModelListing,
  VersionStatus,
  RepositoryIndexEntry,
} from './inference';
export { ModelRepository } from './repository';
export { MODEL_SERVER_VERSION } from './version';

// Execution
export { InProcessExecutor, inProcessExecutor, NO_OBSERVER } from './execution';
export type { PredictExecutor, ExecutorTarget, ExecutorFactory, ExecutorObserver } from './execution';

// Codecs
export { decodeTensor, encodeOutput, writeJsonData, tensorToRaw, parseJson, stringifyJson } from './codecs';
export type { WireTensor, WireInferenceRequest } from './codecs/wire-tensor.interface';

// Monitoring
export { InferenceEventStream } from './monitoring';
export type { InferenceEvent, StageTimings } from './monitoring';

// HTTP
export { HttpErrorFilter, createFastifyAdapter } from './protocol/http';
export type { ModelServerAdapterOptions } from './protocol/http';

// Logging
export { PinoLogger, RequestLogSubscriber } from './logging';
export type { ServerLogLevel } from './logging';

// Testing
export { createTestServer, TestServer, TestServerError } from './testing';
export type { TestResponse, TestCallOptions, TestInferenceResponse } from './testing';
