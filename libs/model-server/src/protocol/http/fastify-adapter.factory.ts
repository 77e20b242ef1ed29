import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_MAX_BODY_BYTES } from '../../options/model-server-options.interface';
import { answerClientError, closeStalledConnections, nodeServerTimeouts, resolveHttpTimeouts, type HttpTimeouts } from './connection-guard';
import { lingerOnEarlyAnswers } from './early-answer';
import { attachFastLaneSlot, fastLaneServerFactory, FastLaneSlot } from './fast-lane';

/** Options of {@link createFastifyAdapter}. @publicApi */
export interface ModelServerAdapterOptions extends HttpTimeouts {
  /** The application-wide body limit; the v2 routes apply `maxBodyBytes` themselves (default 64 MiB). */
  bodyLimit?: number;
  /**
   * Serve plain JSON v2 infer requests (`POST /v2/models/:name[/versions/:v]/infer` with a Content-Length, no
   * Content-Encoding, no binary framing) straight from the HTTP server, before Fastify routes them (default true).
   * Hooks, CORS or security headers added to Fastify do not see those requests: set false when they must.
   */
  fastLane?: boolean;
}

/**
 * A Fastify adapter set up for serving models: timeouts for clients that send or read too slowly
 * ({@link HttpTimeouts}), Node's own refusals (431, malformed HTTP, 408) answered as `{"error": ...}`,
 * trailing slashes ignored, path parameters limited in length,
 * errors the router raises before any route (bad URL, over-long parameter) answered as `{"error": ...}`, a
 * request answered before its body was read (413, refused credentials) read to its end for a few seconds so
 * the client gets the answer rather than a reset connection, and
 * (unless `fastLane: false`) the hot JSON infer route served before Fastify's request lifecycle.
 *
 * @publicApi
 */
export function createFastifyAdapter(options: ModelServerAdapterOptions = {}): FastifyAdapter {
  const slot = options.fastLane === false ? undefined : new FastLaneSlot();
  const timeouts = resolveHttpTimeouts(options);
  const adapter = new FastifyAdapter({
    ...(slot === undefined ? {} : { serverFactory: fastLaneServerFactory(slot) }),
    http: nodeServerTimeouts(timeouts),
    requestTimeout: timeouts.receiveTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    clientErrorHandler: answerClientError,
    // No Nest middleware runs on the model server's routes; without middie no hook runs them on every request.
    skipMiddie: true,
    bodyLimit: options.bodyLimit ?? DEFAULT_MAX_BODY_BYTES,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    frameworkErrors: (error: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is longer than 256 characters' : error.message;
      reply.code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ error: message }));
    },
  });
  if (slot !== undefined) attachFastLaneSlot(adapter.getInstance(), slot);
  closeStalledConnections(adapter.getInstance().server, timeouts.sendTimeoutMs);
  lingerOnEarlyAnswers(adapter.getInstance());
  return adapter;
}
