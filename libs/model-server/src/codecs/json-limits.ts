/*
 * The limits of the lossless JSON parser. The refusals that name them are errors/codec.errors.ts's, which take
 * them as arguments: the catalogue imports no other folder.
 */

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
