import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_MAX_BODY_BYTES } from '../../options/model-server-options.interface';
import { clip, MAX_MESSAGE_CHARS } from '../../errors/clip.util';
import { answerClientError, closeStalledConnections, nodeServerTimeouts, resolveHttpTimeouts, type HttpTimeouts } from './connection-guard';
import { sendAnswer, statusErrorAnswer } from './http-answer';
import { attachFastLaneSlot, fastLaneServerFactory, FastLaneSlot, watchRequestHooks } from './fast-lane';
import { MAX_SEGMENT } from './path-segment';

/**
 * Whether the fast lane is on when `fastLane` is not given. Decided by `npm run bench -- infer-real` (lane on and
 * off, real models; see test/bench/RESULTS.md): the lane is on by default only while it buys at least 10% on a
 * real model. It buys 4-10% on the Iris forest and 0-4% on the ONNX MLP (2026-12-05), so it is off unless asked
 * for (`fastLane: true`, the CLI's `FAST_LANE=1`); on the echo model it buys about 17%.
 *
 * @publicApi
 */
export const DEFAULT_FAST_LANE: boolean | 'always' = false;

/** Options of {@link createFastifyAdapter}. @publicApi */
export interface ModelServerAdapterOptions extends HttpTimeouts {
  /** The application-wide body limit; the v2 routes apply `maxBodyBytes` themselves (default 64 MiB). */
  bodyLimit?: number;
  /**
   * Serve v2 infer requests (`POST /v2/models/:name[/versions/:v]/infer` with a Content-Length) straight from the
   * HTTP server, before Fastify routes them: the same answers, events and records, without Fastify's request
   * lifecycle. `true`: on until the application adds something that must see every request (a request hook, as
   * `enableCors` and security-header plugins add; a global prefix), then off, with a log line saying why.
   * `'always'`: on whatever the application adds (its hooks do not see those requests). `false`: off.
   * Default: {@link DEFAULT_FAST_LANE}.
   */
  fastLane?: boolean | 'always';
}

/**
 * A Fastify adapter set up for serving models: timeouts for clients that send or read too slowly
 * ({@link HttpTimeouts}), Node's own refusals (431, malformed HTTP, 408) answered as `{"error": ...}`,
 * trailing slashes ignored, path parameters limited in length,
 * errors the router raises before any route (bad URL, over-long parameter) answered as `{"error": ...}` (and,
 * like every error the server's answer writer sends before the request body was read, such as a 413 or refused
 * credentials, with the body read to its end for a few seconds so the client gets the answer rather than a
 * reset connection), and, when `fastLane` asks for it (off by default: {@link DEFAULT_FAST_LANE}), the hot JSON
 * infer route served before Fastify's request lifecycle.
 *
 * @publicApi
 */
export function createFastifyAdapter(options: ModelServerAdapterOptions = {}): FastifyAdapter {
  const lane = options.fastLane ?? DEFAULT_FAST_LANE;
  const slot = lane === false ? undefined : new FastLaneSlot(lane === 'always');
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
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_SEGMENT },
    frameworkErrors: (error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      // Fastify's message of a malformed %-escape quotes the whole path: the path is client text, clipped.
      const message =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? `a path segment is longer than ${MAX_SEGMENT} characters`
          : error.code === 'FST_ERR_BAD_URL'
            ? `the path ${clip(req.url)} is not a valid URL (a malformed %-escape)`
            : clip(error.message, MAX_MESSAGE_CHARS);
      sendAnswer(reply, statusErrorAnswer(status, message));
    },
  });
  closeStalledConnections(adapter.getInstance().server, timeouts.sendTimeoutMs);
  if (slot !== undefined) {
    attachFastLaneSlot(adapter.getInstance(), slot);
    watchRequestHooks(adapter.getInstance(), slot);
    watchAdapterHooks(adapter, slot);
  }
  return adapter;
}

/**
 * Nest's adapter runs CORS (`app.enableCors`), security headers and CSRF protection (`app.useSecurityHeaders`,
 * `app.enableCsrfProtection`) and lifecycle hooks from Fastify hooks it added when it was
 * made: no new Fastify hook shows that the application asked for them, so the calls that set them turn the lane off.
 */
function watchAdapterHooks(adapter: FastifyAdapter, slot: FastLaneSlot): void {
  const reasons: Record<string, string> = {
    enableCors: 'the application enabled CORS',
    registerSecurityHook: 'the application added security headers or CSRF protection',
    setOnRequestHook: 'the application added a request hook',
    setOnResponseHook: 'the application added a response hook',
  };
  const target = adapter as unknown as Record<string, unknown>;
  for (const [method, reason] of Object.entries(reasons)) {
    const original = target[method];
    if (typeof original !== 'function') continue;
    target[method] = function (this: unknown, ...args: unknown[]) {
      slot.turnOff(reason);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
}
