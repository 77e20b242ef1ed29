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
}

/** The options with defaults applied. @internal */
export interface ResolvedSageMakerOptions {
  defaultModel: string | undefined;
  maxConcurrentTransforms: number;
  defaultContentType: string;
  defaultAccept: string | undefined;
  invocationTimeoutMs: number | undefined;
  pingTimeoutMs: number;
}

/** The default `MaxPayloadInMB` (SageMaker's own default). @publicApi */
export const DEFAULT_MAX_PAYLOAD_IN_MB = 6;

/** The defaults of the options that have one (the others stay unset). @internal */
export const SAGEMAKER_DEFAULTS = {
  maxConcurrentTransforms: 1,
  defaultContentType: 'application/json',
  pingTimeoutMs: 2000,
} as const satisfies Partial<ResolvedSageMakerOptions>;
