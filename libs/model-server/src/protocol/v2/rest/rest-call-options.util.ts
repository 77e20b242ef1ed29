import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { CallOptions } from '../../../inference/call-options.interface';
import type { CancellationSource } from '../../../model/request-context';
import { invalidRequest } from '../../../errors';

/** The request timeout header: milliseconds, or a number with a unit (`250ms`, `1.5s`, `2m`). */
export const TIMEOUT_HEADER = 'x-request-timeout';

const UNIT_MS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60000 };

/** Milliseconds in a timeout header value, or a 400. @internal */
export function parseTimeout(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(value);
  const ms = match === null ? NaN : Number(match[1]) * UNIT_MS[(match[2] ?? '').toLowerCase()];
  if (!Number.isFinite(ms) || ms <= 0 || ms > 24 * 3600 * 1000) {
    throw invalidRequest(`${TIMEOUT_HEADER} must be a positive duration up to 24 h, in milliseconds or with a unit (250ms, 1.5s, 2m); got '${value}'`);
  }
  return ms;
}

/** The client went away when the response closes before it was fully written. */
class ResponseCancellation implements CancellationSource {
  constructor(private readonly res: ServerResponse) {}

  onCancel(listener: () => void): void {
    const res = this.res;
    if (res.destroyed && !res.writableFinished) return listener();
    res.once('close', () => {
      if (!res.writableFinished) listener();
    });
  }
}

/**
 * What the REST transport tells the data plane about one call: its deadline (`X-Request-Timeout`), how to learn
 * that the client went away, the `traceparent` header, and the body's JSON text when it is the request itself.
 *
 * @internal
 */
export function callOptions(headers: IncomingHttpHeaders, res: ServerResponse, requestText?: string): CallOptions {
  return completeCallOptions(openCallOptions(headers), headers, res, requestText);
}

/** What is known of a call before anything in it is checked: the protocol and the headers passed on. @internal */
export function openCallOptions(headers: IncomingHttpHeaders): CallOptions {
  const options: CallOptions = { protocol: 'rest' };
  const passed = passedHeaders(headers);
  if (passed !== undefined) options.headers = passed;
  return options;
}

/** Adds the rest to options from {@link openCallOptions}: cancellation, deadline (400 when malformed), body text. @internal */
export function completeCallOptions(options: CallOptions, headers: IncomingHttpHeaders, res: ServerResponse, requestText?: string): CallOptions {
  options.cancellation = new ResponseCancellation(res);
  options.requestText = requestText;
  const timeout = headers[TIMEOUT_HEADER];
  if (typeof timeout === 'string') options.deadline = Date.now() + parseTimeout(timeout);
  return options;
}

/** The request headers passed on to model code and monitoring (`traceparent`), if any. @internal */
export function passedHeaders(headers: IncomingHttpHeaders): Record<string, string> | undefined {
  const traceparent = headers.traceparent;
  return typeof traceparent === 'string' ? { traceparent } : undefined;
}
