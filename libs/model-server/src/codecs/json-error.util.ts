import { clip } from '../errors/clip.util';
import type { ModelServerError } from '../errors/model-server.error';
import { invalidRequest } from '../errors';

/** The most digits an integer literal may have: 20 holds every 64-bit value (UINT64 max has 20). @internal */
export const MAX_INTEGER_DIGITS = 20;

/**
 * The longest number literal a large body may hold, in characters. A double needs far fewer digits (a decimal
 * that reads back to a double exactly has at most 767 significant ones); the limit keeps one literal from
 * holding the event loop. A body shorter than this cannot reach it, so small bodies never meet it.
 *
 * @internal
 */
export const MAX_NUMBER_CHARS = 65536;

/** The longest key a large body may hold, in bytes of JSON (like {@link MAX_NUMBER_CHARS}, beyond any small body). @internal */
export const MAX_KEY_BYTES = 65536;

/**
 * The most JSON values (scalars, arrays, objects and keys) a large body may hold outside its tensor data
 * (`inputs[i].data`) by default; anything beyond is refused before a value is built. A server whose request limits
 * allow wider requests raises it with them (see `jsonValueCap`). @internal
 */
export const MAX_JSON_VALUES = 1_000_000;

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

/** An integer literal with more digits than any 64-bit value has (found before any conversion). @internal */
export function integerTooLong(literal: string, digits: number, position: number): ModelServerError {
  return invalidRequest(
    `integer ${clip(literal, 40)} at position ${position} has ${digits} digits; JSON integers may have at most ${MAX_INTEGER_DIGITS} (the 64-bit range)`,
  );
}

/** A number literal longer than {@link MAX_NUMBER_CHARS}. @internal */
export function numberTooLong(position: number): ModelServerError {
  return invalidRequest(`the number at position ${position} is longer than ${MAX_NUMBER_CHARS} characters, the most a JSON number may have`);
}

/** A key longer than {@link MAX_KEY_BYTES}. @internal */
export function keyTooLong(position: number): ModelServerError {
  return invalidRequest(`the key at position ${position} is longer than ${MAX_KEY_BYTES} bytes, the most a JSON key may have`);
}

/** A large body with more than `max` values outside its tensor data. @internal */
export function tooManyJsonValues(max: number): ModelServerError {
  return invalidRequest(
    `the body holds more than ${max} JSON values outside tensor data, the most a large body may hold; ` +
      `send tensors as inputs[i].data arrays (or as binary data)`,
  );
}
