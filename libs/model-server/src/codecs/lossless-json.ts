import { randomBytes } from 'node:crypto';
import { ByteStrings } from '../model/byte-strings';
import { MAX_JSON_DEPTH, parseJsonLossless } from './json.parser';
import { invalidRequest } from '../errors';

/** Doubles beyond this magnitude may come from integer literals that JSON.parse rounded. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * True when a `JSON.parse` result cannot be kept: it holds a number beyond ±(2^53-1) (an integer literal
 * that may have been rounded; every double that large is an integer) or nests arrays / objects deeper
 * than {@link MAX_JSON_DEPTH} (the outermost container is level 1). A number costs a `typeof` and two
 * comparisons, far cheaper than scanning the text; the walk allocates nothing (recursion is bounded by the
 * depth limit).
 */
function needsExactParse(root: unknown): boolean {
  if (typeof root === 'number') return root > MAX_SAFE || root < -MAX_SAFE;
  return typeof root === 'object' && root !== null && containerNeedsExactParse(root, 1);
}

function containerNeedsExactParse(node: object, level: number): boolean {
  if (level > MAX_JSON_DEPTH) return true;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const child: unknown = node[i];
      if (typeof child === 'number') {
        if (child > MAX_SAFE || child < -MAX_SAFE) return true;
      } else if (typeof child === 'object' && child !== null && containerNeedsExactParse(child, level + 1)) {
        return true;
      }
    }
    return false;
  }
  for (const key in node) {
    const child: unknown = (node as Record<string, unknown>)[key];
    if (typeof child === 'number') {
      if (child > MAX_SAFE || child < -MAX_SAFE) return true;
    } else if (typeof child === 'object' && child !== null && containerNeedsExactParse(child, level + 1)) {
      return true;
    }
  }
  return false;
}

/**
 * Parses a JSON body. Integers beyond ±(2^53-1) come back as exact `bigint`s (so INT64/UINT64 data
 * survives); everything else is exactly what `JSON.parse` gives. `JSON.parse` runs first (fast); only when
 * its result holds a number beyond 2^53 or nests too deep is the text parsed again by the exact,
 * iterative parser. Nesting deeper than 512 levels, like malformed text, is a 400:
 * `malformed JSON: <what> at position N`. Numbers beyond the largest double (`1e999`, which `JSON.parse`
 * reads as Infinity) and integer literals of more than 20 digits are 400s too. A `__proto__` key is an own
 * data property, never the prototype.
 *
 * @publicApi
 */
export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // The exact parser finds the same mistake and names its position.
    parseJsonLossless(text);
    throw invalidRequest(`malformed JSON: ${(err as Error).message}`);
  }
  if (text.length <= SHORT_TEXT && !LONG_NUMBER.test(text)) return value;
  return needsExactParse(value) ? parseJsonLossless(text) : value;
}

/**
 * A text this short cannot nest deeper than the limit (that takes more brackets), and without a run of 16
 * digits or an exponent of 3 digits it holds no number beyond 2^53 (nor one beyond the largest double):
 * JSON.parse's result stands without a walk.
 */
const SHORT_TEXT = 2 * MAX_JSON_DEPTH;
const LONG_NUMBER = /\d{16}|[eE][+-]?\d\d\d/;

/** Marks a bigint turned into a string during stringify; the random part cannot occur in real data. */
const NONCE = randomBytes(8).toString('hex');
const BIGINT_MARK = `\u0000bigint-${NONCE}:`;
const BIGINT_MARKED = new RegExp(`"\\\\u0000bigint-${NONCE}:(-?\\d+)"`, 'g');

function markBigint(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? BIGINT_MARK + value.toString() : value;
}

/**
 * `JSON.stringify` that writes `bigint` values as bare JSON integers (parameters carrying 64-bit values),
 * e.g. `{"seed":18446744073709551615}`. A value JSON cannot represent at the top level gives `null`.
 *
 * @publicApi
 */
export function stringifyJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    // Most likely a bigint (a cycle throws again below, as it should).
    text = JSON.stringify(value, markBigint) as string | undefined;
    if (text !== undefined) text = text.replace(BIGINT_MARKED, '$1');
  }
  return text ?? 'null';
}

/** Plain JSON values for decoded tensor data inside a body: typed arrays as arrays, BYTES as their texts. */
function plainTensorData(key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return markBigint(key, value);
  if (value instanceof ByteStrings) return value.toStrings();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<unknown>);
  return value;
}

/**
 * {@link stringifyJson} for a request body that may hold decoded tensor data (the request at a model's input
 * path, written back around its answer at the result path): typed arrays are written as JSON arrays and BYTES
 * as strings, not as objects keyed by index.
 *
 * @internal
 */
export function stringifyBodyJson(value: unknown): string {
  const text = JSON.stringify(value, plainTensorData) as string | undefined;
  return text === undefined ? 'null' : text.replace(BIGINT_MARKED, '$1');
}
