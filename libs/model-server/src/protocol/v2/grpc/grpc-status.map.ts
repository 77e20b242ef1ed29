import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ErrorCode } from '../../../errors/error-code.enum';
import { isModelServerError } from '../../../errors/model-server.error';

/** The one place a catalogue code becomes a gRPC status code. */
const GRPC_STATUS: Readonly<Record<ErrorCode, GrpcStatus>> = {
  [ErrorCode.InvalidRequest]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorCode.Unauthenticated]: GrpcStatus.UNAUTHENTICATED,
  [ErrorCode.Forbidden]: GrpcStatus.PERMISSION_DENIED,
  [ErrorCode.NotFound]: GrpcStatus.NOT_FOUND,
  [ErrorCode.NotAcceptable]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorCode.PayloadTooLarge]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorCode.UnsupportedMediaType]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorCode.NotReady]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.Overloaded]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.DeadlineExceeded]: GrpcStatus.DEADLINE_EXCEEDED,
  [ErrorCode.Cancelled]: GrpcStatus.CANCELLED,
  [ErrorCode.ModelError]: GrpcStatus.INTERNAL,
  [ErrorCode.Internal]: GrpcStatus.INTERNAL,
};

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
    const code = GRPC_STATUS[err.code] ?? GrpcStatus.INTERNAL;
    const fault = code === GrpcStatus.INTERNAL;
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

/** The status code a catalogue code maps to. @internal */
export function grpcStatusOf(code: ErrorCode): GrpcStatus {
  return GRPC_STATUS[code];
}
