import { Buffer } from 'node:buffer';
import process from 'node:process';
import { parse } from 'yaml';

/** Text whose every character fits one byte (Latin-1). */
const ONE_BYTE = /^[^\u0100-\uffff]*$/;

/**
 * Parses YAML text (a config file, a model folder's `model.yaml`). The yaml package prints its token stream to
 * stdout whenever `LOG_STREAM` is set, and `LOG_STREAM` is the server's request-record setting: it is hidden
 * from the parser while it runs. Strings come back one byte a character wherever their characters allow
 * ({@link oneByteStrings}).
 *
 * @internal
 */
export function parseYamlQuietly(text: string): unknown {
  const stream = process.env.LOG_STREAM;
  delete process.env.LOG_STREAM;
  try {
    const parsed: unknown = parse(text);
    return ONE_BYTE.test(text) ? parsed : oneByteStrings(parsed);
  } finally {
    if (stream !== undefined) process.env.LOG_STREAM = stream;
  }
}

/**
 * `value` with every string in it (object keys too) made again from its characters when they all fit one byte.
 * The parser cuts its strings out of the text, and V8 keeps pieces of a text that holds any character beyond
 * Latin-1 (an arrow in a comment, a word in another script) at two bytes a character. Every string later built from
 * them, such as each answer naming its model, is then two-byte as well and is encoded to UTF-8 on its way to the
 * socket: about 8k more instructions per echo request with `samples/models.yaml` (docs/performance.md).
 */
function oneByteStrings(value: unknown): unknown {
  if (typeof value === 'string') return ONE_BYTE.test(value) ? Buffer.from(value, 'latin1').toString('latin1') : value;
  if (Array.isArray(value)) return value.map(oneByteStrings);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [oneByteStrings(key), oneByteStrings(v)]));
  }
  return value;
}
