import { Buffer } from 'node:buffer';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ModelServerError } from '../../errors/model-server.error';
import { routeNotFound } from '../../errors/request.errors';
import { errorAnswer, sendAnswer } from '../http/http-answer';
import { fromFastify } from '../http/fastify-errors';
import { collectBodyBytes } from '../http/request-body.reader';
import { sendThroughPipeline, type V2RoutePipeline } from '../v2/rest/v2-rest.routes';
import type { V1Call, V1RestEndpoint, V1RestSettings, V1Verb } from './v1-rest.endpoint';

/** The path every v1 route lives under. @internal */
export const V1_PREFIX = '/v1';

/** A model route's last segment, `<model>:predict` or `<model>:explain`, as the model and the verb. */
const MODEL_VERB = /^(.+):(predict|explain)$/;

/**
 * The v1 routes on Fastify, straight on the Fastify instance in an encapsulated plugin under `/v1` whose body
 * parser only collects the bytes (the application's guards and interceptors run around every route, as around
 * the v2 model routes, when it has any): `GET /models`, `GET /models/:model`, and
 * `POST /models/:model:predict` / `:explain` (one route whose last segment is split at its last colon: model
 * names hold no colon). The {@link V1RestEndpoint} does the rest. The fast lane never takes these paths.
 *
 * @internal
 */
export class V1RestRoutes {
  constructor(
    private readonly endpoint: V1RestEndpoint,
    private readonly settings: V1RestSettings,
    /** The application's guards and interceptors (global ones and the target model class's), when it has any. */
    private readonly pipeline?: V2RoutePipeline,
  ) {}

  register(app: FastifyInstance): void {
    app.register(async (v1) => this.routes(v1), { prefix: V1_PREFIX });
  }

  private routes(v1: FastifyInstance): void {
    const bodyLimit = this.settings.maxBodyBytes;
    collectBodyBytes(v1, bodyLimit);
    v1.setErrorHandler(this.onError);
    v1.setNotFoundHandler(this.onNotFound);
    v1.get('/models', (req, reply) => sendThroughPipeline(this.pipeline, this.listModels, undefined, req, reply, async () => this.endpoint.listModels()));
    v1.get('/models/:model', (req, reply) => {
      const model = (req.params as { model: string }).model;
      return sendThroughPipeline(this.pipeline, this.modelReady, model, req, reply, async () => this.endpoint.modelReady(callOf(req, reply, model)));
    });
    v1.post('/models/:target', this.inference);
  }

  private readonly listModels = () => this.endpoint.listModels();
  private readonly modelReady = (call: V1Call) => this.endpoint.modelReady(call);

  private readonly inference = async (req: FastifyRequest, reply: FastifyReply) => {
    const target = targetOf(req);
    if (target === null) return this.onNotFound(req, reply);
    return sendThroughPipeline(this.pipeline, this.inference, target.model, req, reply, () => this.endpoint.inference(callOf(req, reply, target.model), target.verb));
  };


  /** Fastify's own refusals (body over the limit...): a predict or explain one is still a request to its model. */
  private readonly onError = (error: FastifyError | ModelServerError, req: FastifyRequest, reply: FastifyReply) => {
    const target = req.method === 'POST' ? targetOf(req) : null;
    const call = callOf(req, reply, target?.model);
    return sendAnswer(reply, this.endpoint.refused(call, target?.verb, fromFastify(error, this.settings.maxBodyBytes)));
  };

  private readonly onNotFound = (req: FastifyRequest, reply: FastifyReply) =>
    sendAnswer(reply, errorAnswer(routeNotFound(req.method, req.url), this.settings.debug));
}

/** The model and verb of a `POST /v1/models/<model>:<verb>`, or null for any other last segment. */
function targetOf(req: FastifyRequest): { model: string; verb: V1Verb } | null {
  const segment = (req.params as { target?: string } | undefined)?.target;
  const match = segment === undefined ? null : MODEL_VERB.exec(segment);
  return match === null ? null : { model: match[1], verb: match[2] as V1Verb };
}

function callOf(req: FastifyRequest, reply: FastifyReply, model: string | undefined): V1Call {
  return { method: req.method, url: req.url, model, headers: req.headers, body: Buffer.isBuffer(req.body) ? req.body : undefined, res: reply.raw };
}
