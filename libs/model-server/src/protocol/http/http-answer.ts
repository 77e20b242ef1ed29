import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { errorBody, toHttpError } from './http-status.map';

/** The content type of every JSON answer. @internal */
export const JSON_TYPE = 'application/json; charset=utf-8';
/** The content type of binary tensor answers. @internal */
export const BINARY_TYPE = 'application/octet-stream';

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
  body: string | Buffer;
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
  const headers: OutgoingHttpHeaders = { 'content-type': JSON_TYPE };
  if (answer.retryAfterSeconds !== undefined) headers['retry-after'] = String(answer.retryAfterSeconds);
  return { status: answer.status, headers, body: errorBody(answer.message) };
}

/** Writes an answer on a raw Node response (nothing when the client already went away). @internal */
export function writeAnswer(res: ServerResponse, answer: HttpAnswer): void {
  if (res.destroyed) return;
  const headers = answer.headers;
  headers['content-length'] = typeof answer.body === 'string' ? Buffer.byteLength(answer.body) : answer.body.length;
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/** Sends an answer through Fastify's reply. @internal */
export function sendAnswer(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}
