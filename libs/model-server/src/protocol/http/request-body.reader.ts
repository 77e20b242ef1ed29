import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidRequest, payloadTooLarge } from '../../errors';
import { copyInSlices } from '../../codecs/time-slice.util';

const EMPTY = Buffer.alloc(0);

/**
 * Bodies up to this size are joined in one go when they end, and handed on at once; larger ones (unless they
 * came in one chunk) are copied into one buffer in time slices, so a 64 MiB body does not block the event loop
 * for the whole copy (one `Buffer.concat` of 64 MiB took 190–250 ms on a busy 2-core host).
 */
const JOIN_AT_ONCE_BYTES = 4 * 1024 * 1024;

/** Called once: with the body's bytes, or with the error to answer (413 over `limit`, 400 when cut short). */
export type BodyDone = (err: Error | null, body?: Buffer) => void;

/**
 * Reads a request body into one buffer: refuses a declared length over `limit` before reading, stops reading at
 * `limit` bytes, and checks the bytes against a declared Content-Length. The one body reader of every HTTP door
 * (the v2 routes and the fast lane, SageMaker).
 *
 * @internal
 */
export function readRequestBody(payload: Readable, declaredLength: string | undefined, limit: number, done: BodyDone): void {
  const declared = declaredLength === undefined ? Number.NaN : Number(declaredLength);
  if (declared > limit) {
    done(payloadTooLarge(limit));
    return;
  }
  let received = 0;
  const chunks: Buffer[] = [];
  const stop = () => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onError);
  };
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    received += bytes.length;
    if (received > limit) {
      stop();
      done(payloadTooLarge(limit));
      return;
    }
    chunks.push(bytes);
  };
  const onError = (err: Error) => {
    stop();
    done(invalidRequest(`the request body could not be read: ${err.message}`));
  };
  const onEnd = () => {
    stop();
    if (!Number.isNaN(declared) && received !== declared) {
      done(invalidRequest(`the request body has ${received} bytes, not the ${declared} its Content-Length says`));
      return;
    }
    if (chunks.length <= 1 || received <= JOIN_AT_ONCE_BYTES) {
      done(null, chunks.length === 1 ? chunks[0] : chunks.length === 0 ? EMPTY : Buffer.concat(chunks, received));
      return;
    }
    const out = Buffer.allocUnsafe(received);
    copyInSlices(chunks, out).then(
      () => done(null, out),
      (err: Error) => done(err),
    );
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onError);
  payload.resume();
}

/**
 * Makes an encapsulated Fastify plugin read every body as its bytes (within `limit`), whatever its type: the
 * transport decodes them itself. The same parser twice: Fastify finds an exact media type much faster than it
 * falls back to the catch-all.
 *
 * @internal
 */
export function collectBodyBytes(app: FastifyInstance, limit: number): void {
  app.removeAllContentTypeParsers();
  const bytes = (req: FastifyRequest, payload: Readable, done: BodyDone) => readRequestBody(payload, req.headers['content-length'], limit, done);
  app.addContentTypeParser('application/json', bytes);
  app.addContentTypeParser('*', bytes);
}
