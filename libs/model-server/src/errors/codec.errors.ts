import { clip } from './clip.util';
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

/*
 * The lossless JSON parser's refusals (a client's body: 400). The limits a message names are the parser's
 * (codecs/json-limits.ts), passed in, so the catalogue stays a leaf.
 */

/** `malformed JSON: <what> at position N`: the one form of every syntax error. @internal */
export function malformedJson(what: string, position: number): ModelServerError {
  return invalidRequest(`malformed JSON: ${what} at position ${position}`);
}

/** A number literal whose value is beyond the largest double (it would read as Infinity). @internal */
export function numberOutOfRange(literal: string, position: number): ModelServerError {
  return invalidRequest(
    `number ${clip(literal, 40)} at position ${position} is out of range for JSON numbers (magnitude at most ${Number.MAX_VALUE})`,
  );
}

/** An integer literal with more digits than any 64-bit value has (`maxDigits`), found before any conversion. @internal */
export function integerTooLong(literal: string, digits: number, position: number, maxDigits: number): ModelServerError {
  return invalidRequest(
    `integer ${clip(literal, 40)} at position ${position} has ${digits} digits; JSON integers may have at most ${maxDigits} (the 64-bit range)`,
  );
}

/** A number literal longer than the parser's `maxChars`. @internal */
export function numberTooLong(position: number, maxChars: number): ModelServerError {
  return invalidRequest(`the number at position ${position} is longer than ${maxChars} characters, the most a JSON number may have`);
}

/** A key longer than the parser's `maxBytes`. @internal */
export function keyTooLong(position: number, maxBytes: number): ModelServerError {
  return invalidRequest(`the key at position ${position} is longer than ${maxBytes} bytes, the most a JSON key may have`);
}

/**
 * A large body whose JSON values outside tensor data would take more than `limit` bytes of heap (an estimate from
 * their kinds and counts), with the tensors (`inputs[i]`) and requested outputs seen before the estimate passed it:
 * a transport that knows `maxInputs` and `maxOutputs` names those when the request has more than they allow.
 *
 * @internal
 */
export class JsonValuesTooLarge extends ModelServerError {
  constructor(
    limit: number,
    /** Objects seen in the request's `inputs` before the refusal. */
    readonly inputs: number,
    /** Objects seen in the request's `outputs` before the refusal. */
    readonly outputs: number,
  ) {
    super(
      ErrorCode.InvalidRequest,
      `the JSON values outside tensor data would take more than ${limit} bytes of memory (maxJsonValueBytes); ` +
        `send tensors as inputs[i].data arrays (or as binary data)`,
    );
  }
}

/** See {@link JsonValuesTooLarge}. @internal */
export function jsonValuesTooLarge(limit: number, inputs: number, outputs: number): JsonValuesTooLarge {
  return new JsonValuesTooLarge(limit, inputs, outputs);
}

/** Bytes that are not the protobuf message (`message`) they claim to be, from the gRPC codecs (400 / INVALID_ARGUMENT). @internal */
export function malformedMessage(message: string, what: string): ModelServerError {
  return invalidRequest(`the ${message} message is malformed: ${what}`);
}
