import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { errorCodeFacts, isModelServerError } from '../../../errors';

/** An error as a gRPC answer. @internal */
export interface GrpcErrorAnswer {
  /** What grpc-js sends: code, details and, for retryable errors, a `retry-after` trailer (seconds). */
  error: Partial<ServiceError> & { code: GrpcStatus; details: string };
  /** True when the server, not the client, is at fault (log it as an error). */
  serverFault: boolean;
}

/**
 * Maps any error to its gRPC answer. Coded errors keep their message (a model bug is INTERNAL with the
 * model's message, its stack only when `debug` is on); anything else is a server bug, INTERNAL with a
 * generic message.
 *
 * @internal
 */
export function toGrpcError(err: unknown, debug: boolean): GrpcErrorAnswer {
  if (isModelServerError(err)) {
    const facts = errorCodeFacts(err.code);
    const code = facts.grpcStatus as GrpcStatus;
    const fault = facts.serverFault;
    const details = debug && fault && err.cause instanceof Error && err.cause.stack ? `${err.message}\n${err.cause.stack}` : err.message;
    const error: GrpcErrorAnswer['error'] = { code, details };
    if (err.retryAfterSeconds !== undefined) {
      const trailer = new Metadata();
      trailer.set('retry-after', String(err.retryAfterSeconds));
      error.metadata = trailer;
    }
    return { error, serverFault: fault };
  }
  const details = debug && err instanceof Error ? (err.stack ?? err.message) : 'internal server error';
  return { error: { code: GrpcStatus.INTERNAL, details }, serverFault: true };
}
