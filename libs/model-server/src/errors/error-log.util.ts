import { clip } from './clip.util';
import { ErrorCode } from './error-code.enum';
import { errorCodeFacts, type ErrorLogLevel } from './error-code.table';
import { isModelServerError, type ModelServerError } from './model-server.error';

/**
 * How the server logs an error it answers, the same over every transport: a server fault (a model's failure,
 * anything uncoded) as an error with its stack, a deadline that passed as one warning line, a client's
 * mistake or a full server not at all.
 *
 * @internal
 */
export function errorLogLevel(err: unknown): ErrorLogLevel {
  if (!isModelServerError(err)) return 'error';
  const facts = errorCodeFacts(err.code);
  return facts.serverFault ? 'error' : facts.warn ? 'warn' : undefined;
}

/**
 * An error's text for the server's own records (logs, monitoring records), never for clients: the message, and
 * for a server-side failure (500) the underlying error it keeps as `cause` (the model's own error text).
 */
export function errorDetail(err: ModelServerError): string {
  if (err.code !== ErrorCode.ModelError && err.code !== ErrorCode.Internal) return err.message;
  const cause = err.cause;
  if (cause === undefined) return err.message;
  const text = cause instanceof Error ? cause.message : String(cause);
  return `${err.message} (cause: ${clip(text, 2000)})`;
}
