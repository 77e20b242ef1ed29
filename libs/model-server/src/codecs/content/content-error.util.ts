import { ErrorCode } from '../../errors/error-code.enum';
import { ModelServerError } from '../../errors/model-server.error';

/** The error a codec throws when a response cannot be written in the accepted type (HTTP 406). @publicApi */
export function notAcceptable(message: string): ModelServerError {
  return new ModelServerError(ErrorCode.NotAcceptable, message);
}

/** The error for a request body whose media type no codec reads (HTTP 415). @publicApi */
export function unsupportedMediaType(message: string): ModelServerError {
  return new ModelServerError(ErrorCode.UnsupportedMediaType, message);
}
