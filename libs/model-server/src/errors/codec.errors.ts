import { ErrorCode } from './error-code.enum';
import { ModelServerError } from './model-server.error';
import { invalidRequest } from './request.errors';

/**
 * Builds the error a codec throws. Decoding uses {@link clientError} (the client sent it: 400);
 * encoding a model's output uses {@link modelOutputError} (the model returned it: 500).
 * The conversion routines take one of these, so each check is written once for both directions.
 *
 * @internal
 */
export type CodecErrorFactory = (message: string) => ModelServerError;

/** A client mistake in a tensor (HTTP 400 / gRPC INVALID_ARGUMENT). @internal */
export const clientError: CodecErrorFactory = invalidRequest;

/** A bad tensor (or value) returned by model code (HTTP 500). @internal */
export function modelOutputError(message: string): ModelServerError {
  return new ModelServerError(ErrorCode.ModelError, message);
}

/** The error a codec throws when a response cannot be written in the accepted type (HTTP 406). @publicApi */
export function notAcceptable(message: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotAcceptable, message);
}

/** The error for a request body whose media type no codec reads (HTTP 415). @publicApi */
export function unsupportedMediaType(message: string): ModelServerError {
  return new ModelServerError(ErrorCode.UnsupportedMediaType, message);
}
