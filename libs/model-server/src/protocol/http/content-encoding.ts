import type { Buffer } from 'node:buffer';
import { promisify } from 'node:util';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import { emptyEncodedBody, inflatedTooLarge, invalidEncodedBody, unsupportedContentEncoding } from '../../errors/request.errors';

/** True when a `Content-Encoding` header asks for nothing to be undone: none, empty or `identity`. @internal */
export function isIdentityEncoding(encoding: string | undefined): boolean {
  if (encoding === undefined || encoding === 'identity') return true;
  const name = encoding.trim().toLowerCase();
  return name === '' || name === 'identity';
}

const gunzipAsync = promisify(gunzip) as (input: InputType, options: ZlibOptions) => Promise<Buffer>;
const inflateAsync = promisify(inflate) as (input: InputType, options: ZlibOptions) => Promise<Buffer>;

/**
 * Inflates a gzip / x-gzip / deflate body (tritonclient's compression), the body limit applying after inflation:
 * a 413 naming `maxBodyBytes` as soon as inflating passes it (a zip bomb costs at most the limit), a 400 for a
 * truncated or corrupt stream, a 415 for any other encoding. The one inflater of every HTTP route that takes
 * compressed bodies (v2, v1, OpenAI).
 *
 * @internal
 */
export async function inflateBody(body: Buffer, encoding: string, maxBodyBytes: number): Promise<Buffer> {
  if (isIdentityEncoding(encoding)) return body;
  const name = encoding.trim().toLowerCase();
  if (name !== 'gzip' && name !== 'deflate' && name !== 'x-gzip') {
    throw unsupportedContentEncoding(encoding);
  }
  try {
    const options = { maxOutputLength: maxBodyBytes };
    return name === 'deflate' ? await inflateAsync(body, options) : await gunzipAsync(body, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw inflatedTooLarge(name, maxBodyBytes);
    }
    throw invalidEncodedBody(name, (err as Error).message);
  }
}

/**
 * A request body with its `Content-Encoding` undone, as the v2 routes read one: as sent without an encoding (or
 * `identity`); an empty body that claims an encoding is a 400 (zero bytes are not gzip or deflate data); else
 * {@link inflateBody}. Synchronous unless there is something to inflate.
 *
 * @internal
 */
export function decodeContentEncoding(encoding: string | undefined, body: Buffer | undefined, maxBodyBytes: number): Buffer | undefined | Promise<Buffer> {
  if (encoding === undefined || isIdentityEncoding(encoding)) return body;
  if (body === undefined || body.length === 0) throw emptyEncodedBody(encoding);
  return inflateBody(body, encoding, maxBodyBytes);
}
