import { isModelServerError, ModelServerError } from '../errors/model-server.error';
import type { ErrorFacts } from './worker-messages.interface';

/** An error as facts that cross threads (structured clone keeps neither classes nor causes). @internal */
export function toErrorFacts(err: unknown): ErrorFacts {
  if (isModelServerError(err)) {
    const facts: ErrorFacts = { message: err.message, name: err.name, code: err.code };
    if (err.retryAfterSeconds !== undefined) facts.retryAfterSeconds = err.retryAfterSeconds;
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
 *
 * @internal
 */
export function fromErrorFacts(facts: ErrorFacts): Error {
  if (facts.code !== undefined) {
    let cause: Error | undefined;
    if (facts.stack !== undefined) {
      cause = new Error(facts.message);
      cause.stack = facts.stack;
    }
    return new ModelServerError(facts.code, facts.message, { retryAfterSeconds: facts.retryAfterSeconds, cause });
  }
  const err = new Error(facts.message);
  err.name = facts.name;
  if (facts.stack !== undefined) err.stack = facts.stack;
  return err;
}
