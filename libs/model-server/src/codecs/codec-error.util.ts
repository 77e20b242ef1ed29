import { ErrorCode } from '../errors/error-code.enum';
import { invalidRequest } from '../errors/errors';
import { ModelServerError } from '../errors/model-server.error';

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

/** A bad tensor returned by model code (HTTP 500). @internal */
export function modelOutputError(message: string): ModelServerError {
  return new ModelServerError(ErrorCode.ModelError, message);
}

/**
 * A short human description of a value for error messages: numbers and bigints as written,
 * strings quoted (cut after 40 characters), other things by kind.
 *
 * @internal
 */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(v);
    case 'string':
      return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
    case 'undefined':
      return 'undefined';
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) return 'an array';
      if (Buffer.isBuffer(v)) return 'a Buffer';
      if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
      return 'an object';
    default:
      return `a ${typeof v}`;
  }
}
