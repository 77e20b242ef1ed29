import { clip, MAX_MESSAGE_CHARS } from './clip.util';
import { ErrorCode } from './error-code.enum';
import { errorCodeFacts } from './error-code.table';

/** Extra facts a transport may turn into headers or trailers. */
export interface ModelServerErrorOptions {
  /** Seconds after which a retry may succeed (HTTP `Retry-After`); the code's default when not given. */
  retryAfterSeconds?: number;
  /** The underlying error, kept for logs only; never sent to clients. */
  cause?: unknown;
  /** The request field the error is about, when it is one field (OpenAI's error body names it as `param`). */
  param?: string;
}

/**
 * An error with a catalogue code. Throw it from model code to choose the status a client sees,
 * e.g. `throw new ModelServerError(ErrorCode.InvalidRequest, 'age must be positive')` answers 400.
 * Any other error thrown by model code is reported as {@link ErrorCode.ModelError} (500).
 *
 * @publicApi
 */
export class ModelServerError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  /** The request field the error is about, when it is one field. */
  readonly param: string | undefined;

  constructor(code: ErrorCode, message: string, options: ModelServerErrorOptions = {}) {
    super(clip(message, MAX_MESSAGE_CHARS), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelServerError';
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds ?? errorCodeFacts(code).retryAfterSeconds;
    this.param = options.param;
  }
}

/** True when `err` is a {@link ModelServerError} (also across module copies). @publicApi */
export function isModelServerError(err: unknown): err is ModelServerError {
  return err instanceof ModelServerError || (err instanceof Error && err.name === 'ModelServerError' && 'code' in err);
}
