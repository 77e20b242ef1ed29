import type { LoggerService } from '@nestjs/common';
import { clip } from '../../errors/clip.util';
import { ErrorCode } from '../../errors/error-code.enum';
import { errorDetail } from '../../errors/errors';
import { isModelServerError } from '../../errors/model-server.error';

/** The one place a catalogue code becomes an HTTP status. */
const HTTP_STATUS: Record<ErrorCode, number> = {
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.NotAcceptable]: 406,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.Cancelled]: 499,
  [ErrorCode.ModelError]: 500,
  [ErrorCode.Internal]: 500,
  [ErrorCode.NotReady]: 503,
  [ErrorCode.Overloaded]: 503,
  [ErrorCode.DeadlineExceeded]: 504,
};

/** An error as an HTTP answer: status, `{"error": ...}` message, optional `Retry-After`. @internal */
export interface HttpErrorAnswer {
  status: number;
  message: string;
  retryAfterSeconds: number | undefined;
  /** True when the server, not the client, is at fault (log it as an error). */
  serverFault: boolean;
}

/**
 * Logs what an answer says about the server, once: a server fault as an error with its stack (a model's own
 * failure: the stack of what the model threw), a deadline passed as one warning line; client mistakes not at
 * all. The request line is clipped.
 *
 * @internal
 */
export function logHttpFault(logger: Pick<LoggerService, 'error' | 'warn'>, method: string, url: string, err: unknown): void {
  const answer = toHttpError(err, false);
  if (answer.serverFault) {
    const cause = isModelServerError(err) && err.cause instanceof Error ? err.cause : err;
    const text = isModelServerError(err) ? errorDetail(err) : errorText(err);
    logger.error(`${method} ${clip(url)} → ${answer.status}: ${text}`, cause instanceof Error ? cause.stack : undefined);
  } else if (answer.status === 504) {
    logger.warn(`${method} ${clip(url)} → 504: ${errorText(err)}`);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Maps any error to its HTTP answer. Coded errors keep their message; anything else is a server bug,
 * answered 500 with a generic message (the stack only when `debug` is on).
 *
 * @internal
 */
export function toHttpError(err: unknown, debug: boolean): HttpErrorAnswer {
  if (isModelServerError(err)) {
    const status = HTTP_STATUS[err.code] ?? 500;
    const message = debug && status >= 500 && err.cause instanceof Error && err.cause.stack ? `${err.message}\n${err.cause.stack}` : err.message;
    return { status, message, retryAfterSeconds: err.retryAfterSeconds, serverFault: status >= 500 && status !== 503 && status !== 504 };
  }
  const text = err instanceof Error ? (debug ? (err.stack ?? err.message) : 'internal server error') : 'internal server error';
  return { status: 500, message: text, retryAfterSeconds: undefined, serverFault: true };
}

/** The JSON body of an error answer. @internal */
export function errorBody(message: string): string {
  return JSON.stringify({ error: message });
}
