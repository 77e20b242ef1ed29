import type { LoggerService } from '@nestjs/common';
import { clip, errorCodeFacts, errorDetail, errorLogLevel, isModelServerError } from '../../errors';

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
  const level = errorLogLevel(err);
  if (level === undefined) return;
  const status = toHttpError(err, false).status;
  if (level === 'error') {
    const cause = isModelServerError(err) && err.cause instanceof Error ? err.cause : err;
    const text = isModelServerError(err) ? errorDetail(err) : errorText(err);
    logger.error(`${method} ${clip(url)} → ${status}: ${text}`, cause instanceof Error ? cause.stack : undefined);
  } else {
    logger.warn(`${method} ${clip(url)} → ${status}: ${errorText(err)}`);
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
    const facts = errorCodeFacts(err.code);
    const status = facts.httpStatus;
    const message = debug && status >= 500 && err.cause instanceof Error && err.cause.stack ? `${err.message}\n${err.cause.stack}` : err.message;
    return { status, message, retryAfterSeconds: err.retryAfterSeconds, serverFault: facts.serverFault };
  }
  const text = err instanceof Error ? (debug ? (err.stack ?? err.message) : 'internal server error') : 'internal server error';
  return { status: 500, message: text, retryAfterSeconds: undefined, serverFault: true };
}

/** The JSON body of an error answer. @internal */
export function errorBody(message: string): string {
  return JSON.stringify({ error: message });
}
