/**
 * Nest Model Server: serve machine-learning models over the KServe v2 / Open Inference Protocol.
 *
 * The main entry holds what a model author and an application need: the authoring API, the module, errors and
 * the HTTP adapter. The rest has entries of its own: `nest-model-server/grpc`, `/monitoring`, `/sagemaker`,
 * `/routing`, `/testing` and `/onnx`. `index.spec.ts` keeps this list at 60 names or fewer.
 */
import 'reflect-metadata';

// Authoring
export { ModelServer, ModelContext, RequestContext, Operation, ModelState, DATATYPES, ByteStrings } from './model';
export type {
  ModelClass,
  ModelLogger,
  ModelCaller,
  ModelCallRequest,
  ModelCallOptions,
  Datatype,
  TensorData,
  TensorDataMap,
  Tensor,
  OutputTensor,
  RequestedOutput,
  TensorSpec,
  Parameters,
  InferenceRequest,
  InferenceResult,
  InferenceResponse,
  TextGeneration,
  TextGenerationInput,
  ChatMessage,
  HttpCall,
  PlainResult,
} from './model';

// Content types (a model's own codecs)
export { ContentCodecProvider } from './codecs/content';
export type { ContentCodec, ContentTarget, ContentInput, DecodedContent, EncodeContext } from './codecs/content';

// Errors
export { ErrorCode, ModelServerError, isModelServerError } from './errors';
export type { ModelServerErrorOptions } from './errors';

// Serving: the module (it answers errors as `{"error"}` itself) and the HTTP adapter
export { ModelServerModule, modelsFromConfig } from './module';
export type { ModelServerModuleOptions, ModelServerFeatureOptions } from './module';
export type { AuthOptions } from './options/auth-options.interface';
export type { ModelConfig, ModelVersionConfig, LoadMode } from './repository';
export { createFastifyAdapter } from './protocol/http';
export type { ModelServerAdapterOptions, HttpTimeouts } from './protocol/http';
export { DataPlane, ModelCatalog } from './inference';
export type { CallOptions } from './inference';
// OpenTelemetry: the names and attributes of the framework's spans (docs/observability.md)
export { PromiseContextManager, SPAN_ATTRIBUTES, SPAN_NAMES } from './tracing';
export type { TracingContext } from './tracing';
// Fault containment outside requests (docs/deployment.md): the guard, and the repository it watches
export { ModelFaultGuard, ModelRepository } from './repository';
