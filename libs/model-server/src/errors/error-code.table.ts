import { ErrorCode } from './error-code.enum';

/**
 * gRPC status codes by number, as the gRPC spec fixes them (grpc-js's `status` values), so the catalogue
 * depends on no transport.
 *
 * @internal
 */
export const GrpcCode = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** What the server's logs say of an error: an error line with the stack, one warning line, or nothing. @internal */
export type ErrorLogLevel = 'error' | 'warn' | undefined;

/** The facts of one catalogue code, which every transport reads. @internal */
export interface ErrorCodeFacts {
  /** The HTTP status of the answer. */
  readonly httpStatus: number;
  /** The gRPC status code of the answer. */
  readonly grpcStatus: number;
  /** The server, not the client, is at fault: logged as an error with the stack of its cause. */
  readonly serverFault: boolean;
  /** Logged as one warning line although no fault of the server (a deadline that passed). */
  readonly warn: boolean;
  /** Seconds after which a retry may succeed, when the error does not say otherwise (`Retry-After`). */
  readonly retryAfterSeconds?: number;
}

/** The one table of what each catalogue code means to a client and to the logs. @internal */
export const ERROR_CODES: Readonly<Record<ErrorCode, ErrorCodeFacts>> = {
  [ErrorCode.InvalidRequest]: { httpStatus: 400, grpcStatus: GrpcCode.INVALID_ARGUMENT, serverFault: false, warn: false },
  [ErrorCode.Unauthenticated]: { httpStatus: 401, grpcStatus: GrpcCode.UNAUTHENTICATED, serverFault: false, warn: false },
  [ErrorCode.Forbidden]: { httpStatus: 403, grpcStatus: GrpcCode.PERMISSION_DENIED, serverFault: false, warn: false },
  [ErrorCode.NotFound]: { httpStatus: 404, grpcStatus: GrpcCode.NOT_FOUND, serverFault: false, warn: false },
  [ErrorCode.Conflict]: { httpStatus: 409, grpcStatus: GrpcCode.ALREADY_EXISTS, serverFault: false, warn: false },
  [ErrorCode.NotAcceptable]: { httpStatus: 406, grpcStatus: GrpcCode.INVALID_ARGUMENT, serverFault: false, warn: false },
  [ErrorCode.PayloadTooLarge]: { httpStatus: 413, grpcStatus: GrpcCode.RESOURCE_EXHAUSTED, serverFault: false, warn: false },
  [ErrorCode.UnsupportedMediaType]: { httpStatus: 415, grpcStatus: GrpcCode.INVALID_ARGUMENT, serverFault: false, warn: false },
  [ErrorCode.Cancelled]: { httpStatus: 499, grpcStatus: GrpcCode.CANCELLED, serverFault: false, warn: false },
  [ErrorCode.NotReady]: { httpStatus: 503, grpcStatus: GrpcCode.UNAVAILABLE, serverFault: false, warn: false },
  [ErrorCode.Overloaded]: { httpStatus: 503, grpcStatus: GrpcCode.UNAVAILABLE, serverFault: false, warn: false, retryAfterSeconds: 1 },
  [ErrorCode.InsufficientResources]: { httpStatus: 507, grpcStatus: GrpcCode.RESOURCE_EXHAUSTED, serverFault: false, warn: false },
  [ErrorCode.DeadlineExceeded]: { httpStatus: 504, grpcStatus: GrpcCode.DEADLINE_EXCEEDED, serverFault: false, warn: true },
  [ErrorCode.ModelError]: { httpStatus: 500, grpcStatus: GrpcCode.INTERNAL, serverFault: true, warn: false },
  [ErrorCode.Internal]: { httpStatus: 500, grpcStatus: GrpcCode.INTERNAL, serverFault: true, warn: false },
};

/** The facts of a code; an unknown code (a foreign error claiming one) is read as {@link ErrorCode.Internal}. @internal */
export function errorCodeFacts(code: ErrorCode): ErrorCodeFacts {
  return ERROR_CODES[code] ?? ERROR_CODES[ErrorCode.Internal];
}
