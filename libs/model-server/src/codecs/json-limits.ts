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
 * The estimated heap bytes the JSON values outside tensor data (`inputs[i].data`) of one large body may take once
 * built, by default (the `maxJsonValueBytes` request limit): 4 MiB. Past it the body is refused before a value is
 * built. Small values cost far more as objects than as text (`{},` is 3 bytes of JSON and 64 of heap), so without
 * a bound a body of tiny values within the body limit would take many times its size; the collector copies every
 * small object that survives a young-generation collection (a million empty objects: 75–95 ms collections on a
 * quiet machine); and what reads the values does so at once (MLRun's rows become a tensor in one step: 55,000
 * rows, 8 MiB of values, took 38–54 ms). At 4 MiB neither holds the event loop for more than about 25 ms on a
 * quiet machine, as long as the longest steps of a 64 MiB body of tensor data. @internal
 */
export const DEFAULT_MAX_JSON_VALUE_BYTES = 4 * 1024 * 1024;

/**
 * What each JSON value outside tensor data is counted as against `maxJsonValueBytes`: an upper estimate of its
 * heap on 64-bit V8 (no pointer compression), each including the 8-byte slot that holds it in its array or object.
 * A string's characters are not counted: they take at most twice their bytes of JSON, which the body limit bounds
 * already. @internal
 */
export const JSON_VALUE_COST = {
  /** An object: its header and in-object property slots. */
  object: 64,
  /** An array: its header and its elements' header (each element counts its own slot). */
  array: 56,
  /**
   * A key: its property and its string. Keys repeated across objects share a shape and cost a slot; a body that
   * gives each object keys of its own makes V8 keep the objects in dictionary mode (200–250 bytes an object).
   */
  key: 256,
  /** A string: its header and padding. */
  string: 32,
  /** An integer literal of at most 9 characters: a small integer, the slot alone. */
  smallInteger: 8,
  /** Any other number: a boxed double. */
  number: 24,
  /** An integer literal of more than 15 characters: a bigint when beyond 2^53. */
  bigint: 40,
  /** `true`, `false`, `null`. */
  literal: 8,
} as const;
