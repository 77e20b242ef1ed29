import process from 'node:process';
import { parse } from 'yaml';

/**
 * Parses YAML text (a config file, a model folder's `model.yaml`). The yaml package prints its token stream to
 * stdout whenever `LOG_STREAM` is set, and `LOG_STREAM` is the server's request-record setting: it is hidden
 * from the parser while it runs.
 *
 * @internal
 */
export function parseYamlQuietly(text: string): unknown {
  const stream = process.env.LOG_STREAM;
  delete process.env.LOG_STREAM;
  try {
    return parse(text);
  } finally {
    if (stream !== undefined) process.env.LOG_STREAM = stream;
  }
}
