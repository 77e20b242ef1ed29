import { Buffer } from 'node:buffer';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ModelServerError } from '../../../errors/model-server.error';
import { routeNotFound } from '../../../errors/request.errors';
import { errorAnswer, routeAnswer, sendAnswer, type HttpAnswer } from '../../http/http-answer';
import { fromFastify } from '../../http/fastify-errors';
import { collectBodyBytes } from '../../http/request-body.reader';
import type { V2Call, V2Params, V2RestEndpoint } from './v2-rest.endpoint';
import { isStrictJsonMediaType } from './v2-body.parser';
import { V2_PREFIX, V2_ROUTES, type V2Handler } from './v2-routes.table';
import { unsupportedContentType } from '../../../errors';

/** What a route registered from the table carries in its config: the handler's name. */
interface V2RouteConfig {
  v2: V2Handler;
}

/**
 * The application's request pipeline around the routes that are not open (Nest guards, interceptors, filters):
 * `run` answers the request through it, or returns `undefined` when the pipeline answered itself (a filter).
 *
 * @internal
 */
export interface V2RoutePipeline {
  run(
    handler: (...args: never[]) => unknown,
    model: string | undefined,
    req: FastifyRequest,
    reply: FastifyReply,
    answer: () => Promise<HttpAnswer>,
  ): Promise<HttpAnswer | undefined>;
}

/**
 * Sends a route's answer, made behind the application's guards and interceptors when it has any (`pipeline`; `model`, the
 * model the request addresses, may be given as a function, called only then):
 * what every REST door (v2, v1, OpenAI, SageMaker) calls, so none of them is a side door around a guard.
 *
 * @internal
 */
export async function sendThroughPipeline(
  pipeline: V2RoutePipeline | undefined,
  handler: (...args: never[]) => unknown,
  model: string | undefined | (() => string | undefined),
  req: FastifyRequest,
  reply: FastifyReply,
  answer: () => Promise<HttpAnswer>,
): Promise<FastifyReply> {
  if (pipeline === undefined) return sendAnswer(reply, await answer());
  const guarded = await pipeline.run(handler, typeof model === 'function' ? model() : model, req, reply, answer);
  return guarded === undefined ? reply : sendAnswer(reply, guarded);
}

/**
 * Where a transport's routes get the {@link V2RoutePipeline} (the `MODEL_ROUTE_PIPELINE` provider): built once, at
 * the first call, from what the application has registered by then (call it from `onModuleInit`); `undefined` when
 * there is no guard or interceptor anywhere.
 *
 * @internal
 */
export interface ModelRoutePipelineSource {
  pipeline(): Promise<V2RoutePipeline | undefined>;
}

/**
 * The v2 REST routes on Fastify: every row of the route table, registered straight on the Fastify instance
 * (no Nest interceptor or pipe on the request path) in an encapsulated plugin whose body parser only collects
 * the bytes. The {@link V2RestEndpoint} does the rest, as it does for the fast lane.
 *
 * @internal
 */
export class V2RestRoutes {
  constructor(
    private readonly endpoint: V2RestEndpoint,
    private readonly settings: { maxBodyBytes: number; debug: boolean },
    /** Around every route but the open ones (health), when the application has guards or interceptors. */
    private readonly pipeline?: V2RoutePipeline,
  ) {}

  /**
   * Registers the `/v2` routes as an encapsulated plugin (its own body parser, error and 404 handlers), and the
   * table's few rows outside `/v2` (MLRun's `GET /`) as another, whose unknown paths stay the application's.
   */
  register(app: FastifyInstance): void {
    app.register(async (v2) => this.routes(v2, V2_PREFIX), { prefix: V2_PREFIX });
    if (V2_ROUTES.some((r) => !r.path.startsWith(V2_PREFIX))) app.register(async (root) => this.routes(root, ''));
  }

  private routes(v2: FastifyInstance, prefix: string): void {
    const bodyLimit = this.settings.maxBodyBytes;
    collectBodyBytes(v2, bodyLimit);
    v2.setErrorHandler(this.onError);
    if (prefix !== '') v2.setNotFoundHandler(this.onNotFound);
    for (const route of V2_ROUTES) {
      if (route.path.startsWith(V2_PREFIX) !== (prefix !== '')) continue;
      const handler = this.endpoint.handlers[route.handler];
      const pipeline = route.open === undefined ? this.pipeline : undefined;
      v2.route({
        method: route.method,
        url: route.path.slice(prefix.length) || '/',
        config: { v2: route.handler } satisfies V2RouteConfig,
        ...(route.body === 'json' ? { onRequest: requireJsonType } : {}),
        handler:
          pipeline === undefined
            ? (req: FastifyRequest, reply: FastifyReply) => routeAnswer(reply, handler(callOf(req, reply)))
            : async (req: FastifyRequest, reply: FastifyReply) =>
                sendThroughPipeline(pipeline, handler, (req.params as Partial<V2Params>).model, req, reply, async () => handler(callOf(req, reply))),
      });
    }
  }

  /** Fastify's own refusals (body over the limit, a content type refused before the body was read). */
  private readonly onError = (error: FastifyError | ModelServerError, req: FastifyRequest, reply: FastifyReply) => {
    const handler = (req.routeOptions?.config as Partial<V2RouteConfig> | undefined)?.v2;
    return sendAnswer(reply, this.endpoint.refused(callOf(req, reply), handler, fromFastify(error, this.settings.maxBodyBytes)));
  };

  private readonly onNotFound = (req: FastifyRequest, reply: FastifyReply) =>
    sendAnswer(reply, errorAnswer(routeNotFound(req.method, req.url), this.settings.debug));
}

function callOf(req: FastifyRequest, reply: FastifyReply): V2Call {
  return {
    method: req.method,
    url: req.url,
    params: req.params as V2Params,
    headers: req.headers,
    body: Buffer.isBuffer(req.body) ? req.body : undefined,
    res: reply.raw,
  };
}

/**
 * Refuses (415) a request whose content type is not `application/json` (or `+json`), before its body is read: the
 * `onRequest` hook of every route that changes the server's state (v2 repository load / unload, SageMaker's
 * multi-model `POST /models`). Browsers send `text/plain`, form-encoded and multipart bodies cross-site without
 * asking the server first; JSON they send only after a CORS preflight the server does not grant.
 *
 * @internal
 */
export function requireJsonType(req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  const type = req.headers['content-type'];
  done(isStrictJsonMediaType(type) ? undefined : unsupportedContentType(type, 'this route changes the server\'s state and takes only application/json'));
}
