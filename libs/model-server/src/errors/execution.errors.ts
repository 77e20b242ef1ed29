import { clip } from './clip.util';
import { ErrorCode } from './error-code.enum';
import { isModelServerError, ModelServerError } from './model-server.error';

/** Errors of running a model: worker threads, batches, errors that cross threads. @internal */

/** Errors that say where a request could not run rather than what the model made of it. */
const NOT_THE_MODELS = new WeakSet<Error>();

/**
 * A worker thread stopped while it ran a request: that request fails (500), the worker is replaced. Why it
 * stopped (the model's error text, an exit code) is logged and kept as `cause`, not put in the message.
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
 */
export function isModelFailure(err: unknown): boolean {
  if (!(err instanceof Error) || NOT_THE_MODELS.has(err)) return false;
  const code = (err as { code?: unknown }).code;
  return code !== ErrorCode.Overloaded && code !== ErrorCode.NotReady && code !== ErrorCode.DeadlineExceeded && code !== ErrorCode.Cancelled;
}

/** A request that cannot be posted to a worker thread (not structured-cloneable). */
export function workerRequestUnsendable(label: string, reason: string): ModelServerError {
  return new ModelServerError(
    ErrorCode.ModelError,
    `model ${label}: the request cannot be sent to a worker thread (${reason}); keep parameters and ctx.state to plain data`,
  );
}

/** What predict returned in a worker thread cannot be posted back (`name`: the model's name). */
export function workerResultUnsendable(name: string, reason: string): ModelServerError {
  return new ModelServerError(ErrorCode.ModelError, `model '${name}': predict returned values a worker thread cannot send back (${reason})`);
}

/** Every worker thread of a model is gone and none could be restarted. */
export function noRunningWorker(label: string, reason: string): ModelServerError {
  return new ModelServerError(ErrorCode.ModelError, `model ${label} has no running worker thread: ${reason}`);
}

/** A batched predict answered an output without the batch's rows as its first dimension. */
export function batchRowsMismatch(label: string, output: string, total: number, requests: number, shape: readonly number[]): ModelServerError {
  return new ModelServerError(
    ErrorCode.ModelError,
    `model ${label}: with adaptive batching, output '${output}' must have the batch's ${total} rows as its first dimension ` +
      `(${requests} requests merged along the first dimension), but it has shape [${shape.join(',')}]; ` +
      'answer one row per input row, or turn batching off for this model (maxBatchSize: 1)',
  );
}

/** An error as facts that cross threads (structured clone keeps neither classes nor causes). @internal */
export interface ErrorFacts {
  message: string;
  name: string;
  code?: ErrorCode;
  retryAfterSeconds?: number;
  param?: string;
  stack?: string;
}

/** An error as facts that cross threads. */
export function toErrorFacts(err: unknown): ErrorFacts {
  if (isModelServerError(err)) {
    const facts: ErrorFacts = { message: err.message, name: err.name, code: err.code };
    if (err.retryAfterSeconds !== undefined) facts.retryAfterSeconds = err.retryAfterSeconds;
    if (err.param !== undefined) facts.param = err.param;
    const cause = err.cause instanceof Error ? err.cause.stack : undefined;
    if (cause !== undefined) facts.stack = cause;
    return facts;
  }
  if (err instanceof Error) return { message: err.message, name: err.name, stack: err.stack };
  return { message: String(err), name: 'Error' };
}

/**
 * The error back on this side: a coded error keeps its code (and so its status); any other keeps its
 * message and the worker's stack, so the data plane reports it as the model's failure (500).
 */
export function fromErrorFacts(facts: ErrorFacts): Error {
  if (facts.code !== undefined) {
    let cause: Error | undefined;
    if (facts.stack !== undefined) {
      cause = new Error(facts.message);
      cause.stack = facts.stack;
    }
    return new ModelServerError(facts.code, facts.message, { retryAfterSeconds: facts.retryAfterSeconds, param: facts.param, cause });
  }
  const err = new Error(facts.message);
  err.name = facts.name;
  if (facts.stack !== undefined) err.stack = facts.stack;
  return err;
}
