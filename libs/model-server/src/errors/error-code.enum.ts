/**
 * The neutral error codes of the catalogue. Each transport maps a code to its own status
 * (HTTP status, gRPC status) in exactly one place.
 *
 * @publicApi
 */
export enum ErrorCode {
  /** The request is malformed or does not fit the protocol or the model's signature (HTTP 400). */
  InvalidRequest = 'INVALID_REQUEST',
  /** Missing or wrong credentials (HTTP 401). */
  Unauthenticated = 'UNAUTHENTICATED',
  /** The route exists but is turned off in this server's configuration, e.g. model control (HTTP 403). */
  Forbidden = 'FORBIDDEN',
  /** Unknown model, version, operation or route (HTTP 404). */
  NotFound = 'NOT_FOUND',
  /** The request conflicts with the server's state, e.g. loading a model whose name is already loaded (HTTP 409). */
  Conflict = 'CONFLICT',
  /** The `Accept` header asks for a representation the server cannot produce (HTTP 406). */
  NotAcceptable = 'NOT_ACCEPTABLE',
  /** The request body is larger than the configured limit (HTTP 413). */
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  /** The request's content type or encoding is not supported (HTTP 415). */
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  /** The model (or the server) is not ready: loading, failed, unloading, shutting down (HTTP 503). */
  NotReady = 'NOT_READY',
  /** A bounded queue or in-flight limit is full; retry later (HTTP 503). */
  Overloaded = 'OVERLOADED',
  /**
   * No room to load another model: the models' budget (count or resident memory) is spent (HTTP 507, which makes
   * SageMaker unload unused models and retry).
   */
  InsufficientResources = 'INSUFFICIENT_RESOURCES',
  /** The request's deadline passed before it completed (HTTP 504). */
  DeadlineExceeded = 'DEADLINE_EXCEEDED',
  /** The request was cancelled by its client (HTTP 499). */
  Cancelled = 'CANCELLED',
  /** The model's own code failed or returned something invalid (HTTP 500). */
  ModelError = 'MODEL_ERROR',
  /** A fault of the server itself (HTTP 500). */
  Internal = 'INTERNAL',
}
