import type { OutgoingHttpHeaders } from 'node:http';
import { JSON_TYPE, type HttpAnswer } from '../http/http-answer';
import { isModelServerError } from '../../errors';
import { toHttpError } from '../http/http-status.map';

/** OpenAI's error types by HTTP status (its clients turn them into their error classes by status). */
function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** OpenAI's error body for an error, with the status the catalogue gives it (the one HTTP status map). @internal */
export function openAIError(err: unknown, debug: boolean): { status: number; body: string; retryAfterSeconds: number | undefined } {
  const answer = toHttpError(err, debug);
  const param = isModelServerError(err) ? (err.param ?? null) : null;
  return { status: answer.status, body: openAIErrorBody(answer.status, answer.message, param), retryAfterSeconds: answer.retryAfterSeconds };
}

/** `{"error": {"message", "type", "param", "code"}}`, OpenAI's error shape; `param` names the request field at fault. @internal */
export function openAIErrorBody(status: number, message: string, param: string | null): string {
  return JSON.stringify({ error: { message, type: errorType(status), param, code: null } });
}

/** The answer to any error on the OpenAI routes, in OpenAI's shape (Retry-After where the catalogue gives one). @internal */
export function openAIErrorAnswer(err: unknown, debug: boolean): HttpAnswer {
  const { status, body, retryAfterSeconds } = openAIError(err, debug);
  const headers: OutgoingHttpHeaders = { 'content-type': JSON_TYPE };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  return { status, headers, body, error: err };
}
