import { clip } from './clip.util';
import { ErrorCode } from './error-code.enum';
import { ModelServerError } from './model-server.error';

/** Errors of a server that cannot take the request now: not ready, full, out of time, cancelled. @internal */

export function modelNotReady(label: string, state: string, reason?: string, retryAfterSeconds?: number): ModelServerError {
  const why = reason ? `: ${reason}` : '';
  return new ModelServerError(ErrorCode.NotReady, `model ${label} is not ready (${state})${why}`, { retryAfterSeconds });
}

/**
 * A repository load that ended with a version not ready (503): the model, the version's state and why, as the
 * repository reports it.
 */
export function modelDidNotLoad(name: string, version: string | undefined, state: string, reason: string | undefined): ModelServerError {
  const which = version === undefined ? `'${clip(name)}'` : `'${clip(name)}' version '${clip(version)}'`;
  return new ModelServerError(ErrorCode.NotReady, `model ${which} did not load (${state})${reason ? `: ${reason}` : ''}`);
}

/** The executor is shutting down (the version is unloading). */
export function executorClosed(label: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotReady, `model ${label} is not ready (unloading)`, { retryAfterSeconds: 1 });
}

/** A model or the server has as many requests in flight as its setting allows (503, retry shortly). */
export function tooManyInFlight(what: string, limit: number, setting: string): ModelServerError {
  return new ModelServerError(ErrorCode.Overloaded, `${what} already has ${limit} requests in flight, its limit (${setting}); retry shortly`);
}

/** A model's queue is full (503 with the code's `Retry-After`). */
export function queueFull(label: string, what: string, limit: number): ModelServerError {
  return new ModelServerError(ErrorCode.Overloaded, `model ${label} is overloaded: ${limit} requests already wait in its ${what} (maxQueue); retry later`);
}

/** The server holds as many request bytes as it may at once (503, retry shortly). */
export function byteBudgetExhausted(bytes: number, limit: number): ModelServerError {
  return new ModelServerError(
    ErrorCode.Overloaded,
    `the server is already decoding and serving ${limit} bytes of requests, its limit (maxRequestBytesInFlight); this ${bytes}-byte request can be retried shortly`,
  );
}

export function deadlineExceeded(stage: string): ModelServerError {
  return new ModelServerError(ErrorCode.DeadlineExceeded, `the request's deadline passed during ${stage}`);
}

/** The client went away while the request waited (`what`: a batch, a worker thread). */
export function cancelledWhileWaiting(what: string): ModelServerError {
  return new ModelServerError(ErrorCode.Cancelled, `the request was cancelled while it waited for ${what}`);
}

/** A stream whose client went away before it ended (how its monitoring record says it ended). */
export function streamCancelled(): ModelServerError {
  return new ModelServerError(ErrorCode.Cancelled, 'the client went away before the stream ended');
}

/** The client cancelled the call (or its deadline passed) while the server was still reading its message. */
export function callCancelled(): ModelServerError {
  return new ModelServerError(ErrorCode.Cancelled, 'the client cancelled the call before its message was read');
}
