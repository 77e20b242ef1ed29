/**
 * Nest Model Server: serve machine-learning models over the KServe v2 / Open Inference Protocol.
 * The public API, listed by hand.
 */
import 'reflect-metadata';

// Authoring
export { ModelServer, ModelContext, RequestContext, Operation, ModelState, DATATYPES, ByteStrings } from './model';
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
export { ModelRepository, ModelFaultGuard, DEFAULT_MAX_MODEL_FAULTS, DEFAULT_FAULT_WINDOW_MS, DEFAULT_UNLOAD_WAIT_MS } from './repository';
export type { ModelFaultGuardOptions, FaultAttribution } from './repository';
export { MODEL_SERVER_VERSION } from './version';

// gRPC transport
export {
  ModelServerGrpcModule,
  GrpcInferenceServer,
  GRPC_MODULE_OPTIONS,
  DEFAULT_GRPC_MAX_MESSAGE_BYTES,
  DEFAULT_GRPC_PORT,
  GRPC_PREDICT_V2_PROTO,
  GRPC_INFERENCE_SERVICE,
} from './protocol/v2/grpc';
export type { ModelServerGrpcModuleOptions } from './protocol/v2/grpc';

// Execution
export {
  InProcessExecutor,
  inProcessExecutor,
  NO_OBSERVER,
  WorkerPoolExecutor,
  AdaptiveBatcher,
  SYSTEM_CLOCK,
  ManualClock,
  createExecutorFactory,
  defaultExecutorFactory,
  readExecutionOptions,
  DEFAULT_MAX_LATENCY_MS,
  DEFAULT_MAX_QUEUE,
  DEFAULT_WORKER_KILL_GRACE_MS,
  loadModelClass,
  registerTypeScript,
} from './execution';
export type {
  PredictExecutor,
  ExecutorTarget,
  ExecutorFactory,
  ExecutorObserver,
  ExecutionOptions,
  ResolvedExecutionOptions,
  WorkerPoolOptions,
  AdaptiveBatcherOptions,
  BatchClock,
  ExecutorFactoryOptions,
  LoadedModelClass,
} from './execution';

// Codecs
export { decodeTensor, encodeOutput, writeJsonData, tensorToRaw, parseJson, stringifyJson } from './codecs';
export type { WireTensor, WireInferenceRequest } from './codecs/wire-tensor.interface';

// Content types
export {
  ContentCodecModule,
  ContentCodecRegistry,
  ContentCodecProvider,
  JsonContentCodec,
  CsvContentCodec,
  NpyContentCodec,
  contentTarget,
  parseMediaType,
  negotiateMediaType,
  notAcceptable,
  unsupportedMediaType,
} from './codecs/content';
export type {
  ContentCodec,
  ContentTarget,
  ContentInput,
  ContentFormat,
  DecodedContent,
  EncodeContext,
  MediaTypeParams,
  MediaType,
  NegotiatedType,
} from './codecs/content';

// SageMaker serving contract
export { SageMakerModule, SageMakerService, SAGEMAKER_MODULE_OPTIONS, DEFAULT_MAX_PAYLOAD_IN_MB, TARGET_MODEL_HEADER, CUSTOM_ATTRIBUTES_HEADER } from './protocol/sagemaker';
export type {
  SageMakerModuleOptions,
  SageMakerHooks,
  SageMakerOutput,
  BatchStrategy,
  Invocation,
  InvocationResult,
  PingResult,
  ExecutionParameters,
} from './protocol/sagemaker';

// Routing
export {
  ModelRouter,
  isModelRouter,
  VotingEnsemble,
  ParallelRun,
  TrafficSplit,
  ROUTER_CLASSES,
  routerClass,
  checkRouterMembers,
  parseRouterMembers,
  seededRandom,
  ROUTER_MEMBER_PARAMETER,
  RETURN_MEMBERS_PARAMETER,
  FAILED_MEMBERS_PARAMETER,
  MEMBERS_PARAMETER,
} from './routing';
export type {
  FanOutResult,
  MergeStrategy,
  VoteType,
  RouterMemberSpec,
  RouterMember,
  MemberResponse,
  MemberFailure,
  MemberErrorPolicy,
  WeightRule,
  RandomSource,
} from './routing';

// Monitoring
export {
  InferenceEventStream,
  ModelServerMonitoringModule,
  RecordPipeline,
  PrometheusMetrics,
  DEFAULT_LATENCY_BUCKETS,
  MlrunRecordFormatter,
  CloudEventsFormatter,
  CE_REQUEST_TYPE,
  CE_RESPONSE_TYPE,
  CE_ERROR_TYPE,
  EventSampler,
  RecordQueue,
  FileSink,
  StreamSink,
  RedisStreamSink,
  HttpSink,
  SinkDeliveryError,
  createSink,
  parseLogStream,
  mlrunWhen,
  valueJson,
} from './monitoring';
export type {
  InferenceEvent,
  InferenceEventListener,
  StageTimings,
  ModelServerMonitoringOptions,
  CloudEventsOptions,
  DropPolicy,
  DropReason,
  LogFormat,
  LoggedResults,
  MonitoringRecord,
  MonitoringSink,
  RecordFormatter,
  PipeObserver,
  LogStreamTarget,
  MetricsSettings,
} from './monitoring';

// HTTP
export { HttpErrorFilter, createFastifyAdapter, DEFAULT_HTTP_TIMEOUTS } from './protocol/http';
export type { ModelServerAdapterOptions, HttpTimeouts } from './protocol/http';

// Logging
export { PinoLogger, RequestLogSubscriber } from './logging';
export type { ServerLogLevel } from './logging';

// Testing
export { createTestServer, TestServer, TestServerError } from './testing';
export type { TestResponse, TestCallOptions, TestInferenceResponse } from './testing';
