import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyServerFactory } from 'fastify';

/**
 * Answers a request before Fastify routes it, or returns false (having touched nothing) to leave it to Fastify.
 *
 * @internal
 */
export type FastLane = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Where the module puts the lane of the application's HTTP server, once it knows its routes. @internal */
export class FastLaneSlot {
  lane: FastLane | null = null;
}

const slots = new WeakMap<FastifyInstance, FastLaneSlot>();

/** The lane slot of a Fastify instance made by `createFastifyAdapter`, if it has one. @internal */
export function fastLaneSlotOf(app: FastifyInstance): FastLaneSlot | undefined {
  return slots.get(app);
}

/** Remembers the slot of an instance (called by the adapter factory). @internal */
export function attachFastLaneSlot(app: FastifyInstance, slot: FastLaneSlot): void {
  slots.set(app, slot);
}

/**
 * Fastify's `serverFactory`: the HTTP/1.1 server Fastify would make (same timeouts), offering each request to
 * the slot's lane first. Requests the lane declines go through Fastify unchanged.
 *
 * @internal
 */
export function fastLaneServerFactory(slot: FastLaneSlot): FastifyServerFactory {
  return (handler, opts) => {
    const options = opts as {
      http?: ServerOptions;
      keepAliveTimeout: number;
      requestTimeout: number;
      connectionTimeout: number;
      maxRequestsPerSocket?: number;
    };
    const server: Server = createServer(options.http ?? {}, (req, res) => {
      const lane = slot.lane;
      if (lane === null || !lane(req, res)) handler(req, res);
    });
    server.keepAliveTimeout = options.keepAliveTimeout;
    server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket !== undefined && options.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}
