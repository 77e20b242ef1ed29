import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { RequestTracer } from '../../tracing/request-tracer';
import type { ServerSpan } from '../../tracing/server-span';
import type { HttpAnswer } from './http-answer';

/** The response header that names the request's span (W3C trace context), sent when tracing is on. @internal */
export const TRACEPARENT_HEADER = 'traceparent';

/**
 * The server span of an HTTP request to a model (v2 REST, SageMaker), named `<method> <route>` with the HTTP
 * semantic conventions' attributes, continuing the caller's `traceparent` / `tracestate`; null when tracing is off.
 *
 * @internal
 */
export function startHttpServerSpan(
  tracer: RequestTracer,
  method: string,
  route: string,
  url: string,
  headers: IncomingHttpHeaders,
  res: ServerResponse,
): ServerSpan | null {
  if (!tracer.on) return null;
  // Node's socket keeps its addresses once read, as properties of its own, which gives it another hidden class:
  // read on sampled requests only, a few connections' sockets took a shape of their own and Node's HTTP code,
  // which every request runs, became polymorphic (at 1% sampled, 6% of echo throughput). Read on every traced
  // request, each socket takes the same shape on its first one (later reads are cached).
  const socket = res.socket;
  const client = socket?.remoteAddress;
  const port = socket?.localPort;
  const span = tracer.httpServerSpan(`${method} ${route}`, headers);
  // A request that is not sampled records nothing: its attributes are not even made.
  if (span.span.isRecording()) span.span.setAttributes(httpAttributes(method, route, url, headers, client, port));
  return span;
}

/** The HTTP semantic conventions' request attributes. */
function httpAttributes(method: string, route: string, url: string, headers: IncomingHttpHeaders, client: string | undefined, port: number | undefined): Attributes {
  const query = url.indexOf('?');
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_HTTP_ROUTE]: route,
    [ATTR_URL_PATH]: query < 0 ? url : url.slice(0, query),
    [ATTR_URL_SCHEME]: 'http',
  };
  const agent = headers['user-agent'];
  if (agent !== undefined) attributes[ATTR_USER_AGENT_ORIGINAL] = agent;
  if (client !== undefined) attributes[ATTR_CLIENT_ADDRESS] = client;
  if (port !== undefined) attributes[ATTR_SERVER_PORT] = port;
  return attributes;
}

/** The answer with the span's `traceparent`; the span ends with the answer's status. @internal */
export function tracedAnswer(span: ServerSpan, answer: HttpAnswer): HttpAnswer {
  answer.headers[TRACEPARENT_HEADER] = span.traceparent();
  span.endHttp(answer.status);
  return answer;
}
