import process from 'node:process';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A Redis Streams target: `redis://[user:password@]host[:port]/<stream key>[?db=N&maxlen=N]`. @publicApi */
export interface RedisStreamTarget {
  kind: 'redis';
  host: string;
  port: number;
  tls: boolean;
  db: number;
  username: string | undefined;
  password: string | undefined;
  /** The stream key (the URL's path, without its leading `/`). */
  key: string;
  /** `MAXLEN ~` trimming from the URL's `maxlen` query parameter. */
  maxLen: number | undefined;
}

/** Where a `LOG_STREAM` URL points. @publicApi */
export type LogStreamTarget =
  | { kind: 'stdout' }
  | { kind: 'file'; path: string }
  | RedisStreamTarget
  | { kind: 'http'; url: URL };

const USAGE = 'use stdout, file:///path/log.jsonl (or a path), redis://host:port/stream-key or http(s)://host/path';

function fail(stream: string, why: string): never {
  throw new Error(`LOG_STREAM '${redact(stream)}' ${why}; ${USAGE}`);
}

/** The stream URL with any password replaced by `***`, for messages and logs. @publicApi */
export function redact(stream: string): string {
  return stream.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/i, '$1***@');
}

function integer(stream: string, name: string, value: string | null, min: number): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) fail(stream, `has ${name}=${value}, which is not an integer ≥ ${min}`);
  return n;
}

function parseRedis(stream: string, url: URL): RedisStreamTarget {
  const key = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (key === '') fail(stream, 'names no stream key: put it in the path, e.g. redis://127.0.0.1:6379/inference-log');
  for (const name of url.searchParams.keys()) {
    if (name !== 'db' && name !== 'maxlen') fail(stream, `has an unknown query parameter '${name}' (known: db, maxlen)`);
  }
  return {
    kind: 'redis',
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: integer(stream, 'port', url.port, 1) ?? 6379,
    tls: url.protocol === 'rediss:',
    db: integer(stream, 'db', url.searchParams.get('db'), 0) ?? 0,
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    key,
    maxLen: integer(stream, 'maxlen', url.searchParams.get('maxlen'), 1),
  };
}

/**
 * Reads a `LOG_STREAM` value: `stdout`, `file:///abs/path`, a bare path (relative to `cwd`), `redis://` /
 * `rediss://` with the stream key as path, or `http(s)://`. Empty means no stream. Anything else is an error
 * that says what is accepted.
 *
 * @publicApi
 */
export function parseLogStream(value: string | undefined, cwd: string = process.cwd()): LogStreamTarget | undefined {
  const stream = value?.trim() ?? '';
  if (stream === '') return undefined;
  if (stream === 'stdout' || stream === 'stdout://' || stream === '-') return { kind: 'stdout' };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(stream)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'file', path: resolve(cwd, stream) };
  let url: URL;
  try {
    url = new URL(stream);
  } catch {
    fail(stream, 'is not a valid URL');
  }
  switch (scheme) {
    case 'file': {
      let path: string;
      try {
        path = fileURLToPath(url);
      } catch (err) {
        fail(stream, `is not a usable file URL (${(err as Error).message})`);
      }
      if (!isAbsolute(path)) fail(stream, 'must name an absolute path (file:///var/log/inference.jsonl)');
      return { kind: 'file', path };
    }
    case 'redis':
    case 'rediss':
      return parseRedis(stream, url);
    case 'http':
    case 'https':
      return { kind: 'http', url };
    default:
      fail(stream, `uses the unsupported scheme '${scheme}://'`);
  }
}
