import type { ExecutorFactory } from '../execution/predict-executor.interface';
import type { AuthOptions } from './auth-options.interface';
import type { LoadMode, ModelConfig } from '../repository/model-config.interface';

/**
 * Options of {@link ModelServerModule}, checked at boot.
 *
 * @publicApi
 */
export interface ModelServerModuleOptions {
  /** The models to serve. */
  models: ModelConfig[];
  /** `blocking` (default): load before answering; `background`: answer at once, models ready as they load. */
  loadMode?: LoadMode;
  /** Largest request body in bytes, after inflation (default 64 MiB); larger bodies answer 413. */
  maxBodyBytes?: number;
  /** Name reported by `GET /v2` (default `nest-model-server`). */
  serverName?: string;
  /** Version reported by `GET /v2` (default: the package version). */
  serverVersion?: string;
  /** Include stack traces of server faults in error messages (default false). */
  debug?: boolean;
  /** Serve the v2 REST routes on the application's Fastify instance (default true). */
  rest?: boolean;
  /**
   * Serve the OpenAI-compatible routes under `/openai/v1` (models, completions, chat completions) for the models
   * that declare a `textGeneration` adapter (default true; only with `rest`).
   */
  openai?: boolean;
  /** Serve `GET /openapi.json` and the `/docs` page (default true). */
  docs?: boolean;
  /**
   * Serve KServe's v1 REST routes beside the v2 ones (`GET /v1/models[/:m]`, `POST /v1/models/:m:predict` and `:explain`;
   * default true; only with `rest`).
   */
  v1?: boolean;
  /** Bearer-token / API-key protection (off unless tokens are given). */
  auth?: AuthOptions;
  /**
   * Requests in flight across all models beyond which new ones answer 503 with `Retry-After` (default 4096;
   * 0: no limit). A model's own `maxInFlight` limits it alone.
   */
  maxInFlight?: number;
  /**
   * Deadline of every request in milliseconds (default 0: none). A model's `timeoutMs`, a client's
   * `X-Request-Timeout` or gRPC deadline may make it shorter; past it the answer is 504 / DEADLINE_EXCEEDED.
   */
  requestTimeoutMs?: number;
  /**
   * Allow loading and unloading models through the repository API (`POST /v2/repository/models/:m/load|unload`
   * and the gRPC equivalents). Off by default, as in Triton: those calls then answer 403 / PERMISSION_DENIED.
   * When on and auth is configured, they need credentials like every inference route.
   */
  modelControl?: boolean;
  /** Most tensors in a request's `inputs` (default 1024); more answer 400. */
  maxInputs?: number;
  /** Most entries in a request's `outputs` (default 1024); more answer 400. */
  maxOutputs?: number;
  /** Most entries in any one `parameters` object of a request (default 256); more answer 400. */
  maxParameters?: number;
  /**
   * Most bytes one request's decoded tensors may take, all inputs together, checked from shapes and datatypes
   * before anything is allocated (default 128 MiB); more answer 413.
   */
  maxTensorBytes?: number;
  /**
   * Most bytes of memory the JSON values of one body outside its tensor data (`inputs[i].data`) may take once
   * built, estimated before any is built (default 4 MiB); more answer 400. Bounds bodies of many small values
   * (`{"parameters": {"p": [{}, {}, ...]}}`), which take many times their size as objects.
   */
  maxJsonValueBytes?: number;
  /**
   * Request body bytes the server holds at once while it decodes and serves requests, REST and gRPC together
   * (default 256 MiB; 0: no limit). A request that does not fit answers 503 with `Retry-After`.
   */
  maxRequestBytesInFlight?: number;
  /**
   * Partial results of one stream (`predictStream`) produced ahead of a client that reads slowly (default 2): once
   * that many wait, the model's iteration is paused until the client takes one. 0: produce only when asked.
   */
  streamBufferChunks?: number;
  /** Where `predict` runs (default: in process). */
  executorFactory?: ExecutorFactory;
}

/** The options with their defaults applied. @internal */
export type ResolvedModelServerOptions = Required<Omit<ModelServerModuleOptions, 'executorFactory'>> &
  Pick<ModelServerModuleOptions, 'executorFactory'>;

/** Parts a stream produces ahead of a slow reader, by default (`streamBufferChunks`). */
export const DEFAULT_STREAM_BUFFER_CHUNKS = 2;

/** Default body limit: tensors are large, Fastify's 1 MiB is not enough. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The defaults of the server-wide options, written once (the request limits' defaults live with the limits, in
 * the data plane). @internal
 */
export const MODEL_SERVER_DEFAULTS: Readonly<
  Pick<ResolvedModelServerOptions, 'loadMode' | 'maxBodyBytes' | 'serverName' | 'debug' | 'rest' | 'v1' | 'docs' | 'maxInFlight' | 'requestTimeoutMs' | 'modelControl' | 'streamBufferChunks' | 'openai'>
> = {
  loadMode: 'blocking',
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  serverName: 'nest-model-server',
  debug: false,
  rest: true,
  v1: true,
  docs: true,
  maxInFlight: 4096,
  requestTimeoutMs: 0,
  modelControl: false,
  streamBufferChunks: DEFAULT_STREAM_BUFFER_CHUNKS,
  openai: true,
};
