import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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
import { TRACEPARENT } from '../../tracing/traceparent.util';
import type { HttpAnswer } from './http-answer';

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
  const span = tracer.httpServerSpan(`${method} ${route}`, headers);
  // A request that is not sampled records nothing: its attributes are not even made. The socket's addresses
  // were read when the connection opened (readAddressesOnConnect), so reading them here takes Node's cached values.
  if (span.span.isRecording()) {
    const socket = res.socket;
    span.span.setAttributes(httpAttributes(method, route, url, headers, socket?.remoteAddress, socket?.localPort));
  }
  return span;
}

/** The HTTP servers whose connections' addresses are read when they open. */
const READING_ADDRESSES = new WeakSet<Server>();

/**
 * When tracing is on, reads each connection's addresses once, as it opens, for the server spans of its requests.
 * Node's socket keeps its addresses once read, as properties of its own, which gives it another hidden class: read
 * on sampled requests only, a few connections' sockets took a shape of their own while serving and Node's HTTP
 * code, which every request runs, became polymorphic (at 1% sampled, 6% of echo throughput); read on every traced
 * request, each read went through Node's getters (read when the connection opens instead: about 800 instructions a
 * request less, by callgrind), and every socket has its final shape before its first request.
 * Idempotent: the transports on one server all call it.
 *
 * @internal
 */
export function readAddressesOnConnect(server: Server, tracer: RequestTracer): void {
  if (!tracer.on || READING_ADDRESSES.has(server)) return;
  READING_ADDRESSES.add(server);
  server.on('connection', (socket: Socket) => {
    void socket.remoteAddress;
    void socket.localPort;
  });
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

/**
 * The answer with the span's `traceparent`; the span ends with the answer's status. Without a span (tracing off),
 * the answer as it is. @internal
 */
export function tracedAnswer(span: ServerSpan | null, answer: HttpAnswer): HttpAnswer {
  if (span === null) return answer;
  answer.headers[TRACEPARENT] = span.traceparent();
  span.endHttp(answer.status);
  return answer;
}
