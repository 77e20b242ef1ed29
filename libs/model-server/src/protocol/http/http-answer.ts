import { Buffer } from 'node:buffer';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { errorBody, toHttpError } from './http-status.map';
import { endBodyTurn } from './request-body.reader';
import { lingerOnEarlyAnswer } from './early-answer';

/** The content type of every JSON answer. @internal */
export const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * An HTTP answer, whatever door sends it: the Fastify route (`sendAnswer`) or the raw Node response
 * (`writeAnswer`). Handlers that know nothing of either return one.
 *
 * @internal
 */
export interface HttpAnswer {
  status: number;
  /** Headers besides Content-Length (the writer sets it). */
  headers: OutgoingHttpHeaders;
  /**
   * The body: text, bytes, bytes in parts (a large answer, written part after part without a copy), or a stream
   * that writes itself on the raw response (server-sent events), without a Content-Length.
   */
  body: string | Uint8Array | readonly Uint8Array[] | StreamedBody;
  /**
   * The error an error answer tells of ({@link errorAnswer}): a Nest exception filter that names its class in
   * `@Catch` may answer it instead (docs/nest.md). Not sent.
   */
  error?: unknown;
}

/**
 * A body written as it is produced (server-sent events): the writer gets the raw response once the status and
 * headers are out, and writes and ends it; it never rejects (a failure is written into the stream, or the
 * connection is closed).
 *
 * @internal
 */
export class StreamedBody {
  constructor(readonly write: (res: ServerResponse) => Promise<void>) {}
}

/** The byte length of an answer's body (not a streamed one). */
function bodyLength(body: Exclude<HttpAnswer['body'], StreamedBody>): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  let n = 0;
  for (const part of body) n += part.byteLength;
  return n;
}

/** A JSON answer of `text`. @internal */
export function jsonAnswer(status: number, text: string): HttpAnswer {
  return { status, headers: { 'content-type': JSON_TYPE }, body: text };
}

/**
 * The answer to any error: the catalogue's status, a `{"error": ...}` body and, for retryable ones,
 * `Retry-After`. The one place an HTTP error answer is written.
 *
 * @internal
 */
export function errorAnswer(err: unknown, debug: boolean): HttpAnswer {
  const answer = toHttpError(err, debug);
  const http = statusErrorAnswer(answer.status, answer.message, answer.retryAfterSeconds);
  http.error = err;
  return http;
}

/**
 * The `{"error": ...}` answer of a status the catalogue did not choose: the framework's own refusals (Nest's
 * `HttpException`, Fastify's router, Node's parser) and answers that are not an error thrown (a failed scrape,
 * a ping that is not ready).
 *
 * @internal
 */
export function statusErrorAnswer(status: number, message: string, retryAfterSeconds?: number): HttpAnswer {
  const headers: OutgoingHttpHeaders = { 'content-type': JSON_TYPE };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  return { status, headers, body: errorBody(message) };
}

/** Writes an answer on a raw Node response (nothing when the client already went away); its body's turn ends. @internal */
export function writeAnswer(res: ServerResponse, answer: HttpAnswer): void {
  endBodyTurn(res.req);
  if (res.destroyed) return;
  const { body, headers } = answer;
  if (body instanceof StreamedBody) {
    res.writeHead(answer.status, headers);
    void body.write(res);
    return;
  }
  headers['content-length'] = bodyLength(body);
  res.writeHead(answer.status, headers);
  if (typeof body === 'string' || (body instanceof Uint8Array && body.byteLength <= WRITE_PIECE_BYTES)) {
    res.end(body);
    return;
  }
  writeInPieces(res, body instanceof Uint8Array ? [body] : body);
}

/**
 * How much of a large body is handed to the socket at a time. Each hand-off is copied into the kernel at once
 * (on loopback the peer's receive path runs in that copy too): a 2.5 MB JSON answer given whole held the event
 * loop for about 5 ms on a busy machine, and health probes waited behind it.
 */
const WRITE_PIECE_BYTES = 256 * 1024;

/** Writes `parts` a piece of at most {@link WRITE_PIECE_BYTES} at a time, the next once the socket took the last, then ends. */
function writeInPieces(res: ServerResponse, parts: readonly Uint8Array[]): void {
  let part = 0;
  let at = 0;
  const next = (): void => {
    while (part < parts.length) {
      if (res.destroyed) return;
      const whole = parts[part];
      const end = Math.min(whole.byteLength, at + WRITE_PIECE_BYTES);
      const piece = at === 0 && end === whole.byteLength ? whole : whole.subarray(at, end);
      if (end === whole.byteLength) {
        part++;
        at = 0;
      } else {
        at = end;
      }
      if (!res.write(piece)) {
        res.once('drain', next);
        return;
      }
    }
    res.end();
  };
  next();
}

/**
 * Answers a Fastify route's request with `answer`: at once when it is one, else when it settles (a rejection, or
 * a failure to send, goes to the route's error handler). The route returns nothing, so Fastify has no promise of
 * its own to settle: returning one made a promise more a request (Fastify chains its own `then` on it), and
 * with tracing on each promise also runs the context manager's hooks.
 *
 * @internal
 */
export function routeAnswer(reply: FastifyReply, answer: HttpAnswer | Promise<HttpAnswer>): void {
  if (!(answer instanceof Promise)) {
    sendAnswer(reply, answer);
    return;
  }
  answer.then(
    (settled) => {
      try {
        sendAnswer(reply, settled);
      } catch (err) {
        routeFailed(reply, err);
      }
    },
    (err: unknown) => routeFailed(reply, err),
  );
}

/** A route's answer failed: Fastify's error handler for the route answers it (an error object is what it takes). */
function routeFailed(reply: FastifyReply, err: unknown): void {
  if (reply.sent) return;
  reply.send(err instanceof Error ? err : new Error(String(err)));
}

/**
 * Sends an answer through Fastify's reply (a body in parts as a stream of them); its body's turn ends. An error
 * answered before the request body arrived keeps the connection reading it (`lingerOnEarlyAnswer`).
 *
 * @internal
 */
export function sendAnswer(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  endBodyTurn(reply.request.raw);
  if (answer.status >= 400) lingerOnEarlyAnswer(reply);
  const { body } = answer;
  if (body instanceof StreamedBody) {
    // Fastify steps aside: the body writes the raw response itself, event by event, as the client reads.
    reply.hijack();
    writeAnswer(reply.raw, answer);
    return reply;
  }
  reply.code(answer.status).headers(answer.headers);
  if (typeof body === 'string' || body instanceof Uint8Array) return reply.send(body);
  return reply.header('content-length', bodyLength(body)).send(Readable.from(body));
}
