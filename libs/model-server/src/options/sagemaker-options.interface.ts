import type { ModelConfig } from '../repository/model-config.interface';

/**
 * Options of {@link SageMakerModule}.
 *
 * @publicApi
 */
export interface SageMakerModuleOptions {
  /**
   * The model `/invocations` runs when a request has no `X-Amzn-SageMaker-Target-Model` header (default: the only
   * model, when the server has one).
   */
  defaultModel?: string;
  /** `MaxConcurrentTransforms` when the model does not declare it (default 1). */
  maxConcurrentTransforms?: number;
  /** Content type of an `/invocations` body without a `Content-Type` (default `application/json`). */
  defaultContentType?: string;
  /**
   * Response type when the request has no `Accept` or accepts anything (default: the request's own content type
   * when a codec writes it, else `application/json`). The toolkit's `SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`.
   */
  defaultAccept?: string;
  /** Time an invocation may take, in milliseconds, before it answers 504 (default: no limit). */
  invocationTimeoutMs?: number;
  /** Time the models' `ping` hooks have before `/ping` answers 503, in milliseconds (default 2000). */
  pingTimeoutMs?: number;
  /**
   * SageMaker's multi-model endpoint contract (`true`, or its settings): `POST /models`, `GET /models`,
   * `GET /models/:name`, `DELETE /models/:name` and `POST /models/:name/invoke`, models loaded from their folder at
   * run time. Off by default; the CLI turns it on with `SAGEMAKER_MULTI_MODEL=true`, as the toolkit's containers do.
   */
  multiModel?: boolean | MultiModelOptions;
}

/**
 * Settings of SageMaker's multi-model endpoint mode (see {@link SageMakerModuleOptions.multiModel}).
 *
 * @publicApi
 */
export interface MultiModelOptions {
  /** Most models loaded through `POST /models` at once; a load past it answers 507 (default 0: no limit). */
  maxModels?: number;
  /**
   * Resident memory of the process (RSS), in bytes, at or past which a load answers 507, so SageMaker unloads
   * unused models and retries (default 0: no limit).
   */
  maxResidentBytes?: number;
  /** Models per page of `GET /models` when the request sets no `limit` (default 100). */
  pageSize?: number;
  /**
   * Turns a load's name and `url` into the model's config (default: the model folder at `url`: `model.ts` or
   * `model.js` exporting one ModelServer subclass, its files beside it, an optional `model.yaml`).
   */
  resolve?: (name: string, url: string) => ModelConfig | Promise<ModelConfig>;
}

/** The multi-model settings with defaults applied. @internal */
export interface ResolvedMultiModelOptions {
  maxModels: number;
  maxResidentBytes: number;
  pageSize: number;
  resolve: (name: string, url: string) => ModelConfig | Promise<ModelConfig>;
}

/** The options with defaults applied. @internal */
export interface ResolvedSageMakerOptions {
  defaultModel: string | undefined;
  maxConcurrentTransforms: number;
  defaultContentType: string;
  defaultAccept: string | undefined;
  invocationTimeoutMs: number | undefined;
  pingTimeoutMs: number;
  /** The multi-model mode's settings; undefined when it is off. */
  multiModel: ResolvedMultiModelOptions | undefined;
}

/** The default `MaxPayloadInMB` (SageMaker's own default). @publicApi */
export const DEFAULT_MAX_PAYLOAD_IN_MB = 6;

/** The defaults of the options that have one (the others stay unset). @internal */
export const SAGEMAKER_DEFAULTS = {
  maxConcurrentTransforms: 1,
  defaultContentType: 'application/json',
  pingTimeoutMs: 2000,
  multiModelPageSize: 100,
} as const;
