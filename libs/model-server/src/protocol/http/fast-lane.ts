import { Logger } from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyServerFactory } from 'fastify';

/**
 * Answers a request before Fastify routes it, or returns false (having touched nothing) to leave it to Fastify.
 *
 * @internal
 */
export type FastLane = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Where the module puts the lane of the application's HTTP server, once it knows its routes. A lane that is not
 * `forced` is turned off for good as soon as the application adds something that must see every request (a
 * request hook, as CORS and security-header plugins add; a global prefix).
 *
 * @internal
 */
export class FastLaneSlot {
  lane: FastLane | null = null;
  /** Why the lane was turned off, once it was. */
  offBecause: string | undefined;
  private readonly logger = new Logger('FastLane');

  constructor(readonly forced = false) {}

  /** The lane to offer requests to: none once turned off. */
  get active(): FastLane | null {
    return this.offBecause === undefined ? this.lane : null;
  }

  /** Turns the lane off (unless forced): every request goes through Fastify from now on. */
  turnOff(reason: string): void {
    if (this.forced || this.offBecause !== undefined) return;
    this.offBecause = reason;
    this.logger.log(`fast lane off: ${reason}; every request goes through Fastify's hooks (fastLane: 'always' keeps it)`);
  }
}

/** Fastify hooks that run on requests: one the application adds must see the lane's requests too. */
const REQUEST_HOOKS = new Set(['onRequest', 'preParsing', 'preValidation', 'preHandler', 'preSerialization', 'onSend', 'onResponse', 'onError', 'onTimeout', 'onRequestAbort']);

/** Marks a hook of the framework's own (the auth check): it does not turn the lane off. */
const OWN_HOOK = Symbol('model server hook');

/** `fn`, marked as one of the framework's own hooks (see {@link watchRequestHooks}). @internal */
export function ownHook<T extends object>(fn: T): T {
  (fn as { [OWN_HOOK]?: true })[OWN_HOOK] = true;
  return fn;
}

/**
 * Watches the hooks added to `app` (and the plugin contexts made from it) from now on: the first request hook
 * that is not the framework's own turns the slot's lane off.
 *
 * @internal
 */
export function watchRequestHooks(app: FastifyInstance, slot: FastLaneSlot): void {
  const addHook = app.addHook;
  app.addHook = function (this: FastifyInstance, ...args: unknown[]) {
    const added = (addHook as (...a: unknown[]) => FastifyInstance).apply(this, args);
    const [name, fn] = args;
    if (typeof name === 'string' && REQUEST_HOOKS.has(name) && (fn as { [OWN_HOOK]?: true } | undefined)?.[OWN_HOOK] !== true) {
      slot.turnOff(`the application added an ${name} hook`);
    }
    return added;
  } as FastifyInstance['addHook'];
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
      const lane = slot.active;
      if (lane === null || !lane(req, res)) handler(req, res);
    });
    server.keepAliveTimeout = options.keepAliveTimeout;
    server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket !== undefined && options.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}
