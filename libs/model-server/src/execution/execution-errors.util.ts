import { clip } from '../errors/clip.util';
import { ErrorCode } from '../errors/error-code.enum';
import { ModelServerError } from '../errors/model-server.error';

/** Seconds a client should wait before retrying a model whose queue was full. */
const OVERLOADED_RETRY_AFTER_S = 1;

/** A model's queue is full: 503 with `Retry-After`. @internal */
export function overloaded(label: string, what: string, limit: number): ModelServerError {
  return new ModelServerError(
    ErrorCode.Overloaded,
    `model ${label} is overloaded: ${limit} requests already wait in its ${what} (maxQueue); retry later`,
    { retryAfterSeconds: OVERLOADED_RETRY_AFTER_S },
  );
}

/** The executor is shutting down (the version is unloading). @internal */
export function executorClosed(label: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotReady, `model ${label} is not ready (unloading)`, { retryAfterSeconds: 1 });
}

/** Errors that say where a request could not run rather than what the model made of it. */
const NOT_THE_MODELS = new WeakSet<Error>();

/**
 * A worker thread stopped while it ran a request: that request fails (500), the worker is replaced. Why it
 * stopped (the model's error text, an exit code) is logged and kept as `cause`, not put in the message.
 *
 * @internal
 */
export function workerCrashed(label: string, index: number, reason: string, requestId: string): ModelServerError {
  const err = new ModelServerError(
    ErrorCode.ModelError,
    `model ${label}: worker thread ${index} crashed while running predict (request ${clip(requestId)}); the request failed and the worker ` +
      'is being replaced; details are in the server log',
    { cause: new Error(reason) },
  );
  NOT_THE_MODELS.add(err);
  return err;
}

/**
 * A worker thread still ran a request `workerKillGraceMs` after its deadline, and was terminated (504; the
 * client had its answer at the deadline already).
 *
 * @internal
 */
export function workerOverran(label: string, index: number, graceMs: number): ModelServerError {
  const err = new ModelServerError(
    ErrorCode.DeadlineExceeded,
    `the request's deadline passed during predict; model ${label}: worker thread ${index} still ran it ${graceMs} ms later (workerKillGraceMs) and was terminated`,
  );
  NOT_THE_MODELS.add(err);
  return err;
}

/**
 * True when a failed batch's requests are worth running one by one: the model itself refused or failed
 * (one bad request may spoil a batch), not a crash, a full queue, a shutdown, a deadline or a cancellation.
 *
 * @internal
 */
export function isModelFailure(err: unknown): boolean {
  if (!(err instanceof Error) || NOT_THE_MODELS.has(err)) return false;
  const code = (err as { code?: unknown }).code;
  return code !== ErrorCode.Overloaded && code !== ErrorCode.NotReady && code !== ErrorCode.DeadlineExceeded && code !== ErrorCode.Cancelled;
}

export { versionLabel } from '../errors/version-label.util';
