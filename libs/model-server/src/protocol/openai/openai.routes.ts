import { Buffer } from 'node:buffer';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ModelServerError } from '../../errors/model-server.error';
import { routeNotFound } from '../../errors/request.errors';
import { sendAnswer } from '../http/http-answer';
import { fromFastify } from '../http/fastify-errors';
import { collectBodyBytes } from '../http/request-body.reader';
import { decodeContentEncoding } from '../http/content-encoding';
import { openAIErrorAnswer } from './openai-answer';
import { sendThroughPipeline, type V2RoutePipeline } from '../v2/rest/v2-rest.routes';
import type { OpenAICall, OpenAIEndpoint } from './openai.endpoint';

/** Where the OpenAI-compatible routes live. @internal */
export const OPENAI_PREFIX = '/openai/v1';

/**
 * The OpenAI-compatible routes on Fastify, in an encapsulated plugin under `/openai/v1` with its own body parser
 * (the bytes, within the body limit), and its own error and 404 handlers answering in OpenAI's error shape:
 * `GET /models`, `GET /models/:model`, `POST /completions`, `POST /chat/completions`. The application's guards and
 * interceptors (global ones and the requested model class's) run around them, as around the v2 model routes.
 *
 * @internal
 */
export class OpenAIRoutes {
  constructor(
    private readonly endpoint: OpenAIEndpoint,
    private readonly settings: { maxBodyBytes: number; debug: boolean },
    /** The application's guards and interceptors, when it has any. */
    private readonly pipeline?: V2RoutePipeline,
  ) {}

  register(app: FastifyInstance): void {
    app.register(async (api) => this.routes(api), { prefix: OPENAI_PREFIX });
  }

  private routes(api: FastifyInstance): void {
    const limit = this.settings.maxBodyBytes;
    collectBodyBytes(api, limit);
    api.setErrorHandler((error: FastifyError | ModelServerError, _req: FastifyRequest, reply: FastifyReply) =>
      sendAnswer(reply, openAIErrorAnswer(fromFastify(error, limit), this.settings.debug)),
    );
    api.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) =>
      sendAnswer(reply, openAIErrorAnswer(routeNotFound(req.method, req.url), this.settings.debug)),
    );
    const endpoint = this.endpoint;
    api.get('/models', (req, reply) => sendThroughPipeline(this.pipeline, this.models, undefined, req, reply, async () => endpoint.models()));
    api.get('/models/:model', (req, reply) => {
      const model = (req.params as { model: string }).model;
      return sendThroughPipeline(this.pipeline, this.models, model, req, reply, async () => endpoint.model(callOf(req, reply), model));
    });
    api.post('/completions', (req, reply) => this.complete(req, reply, 'completion'));
    api.post('/chat/completions', (req, reply) => this.complete(req, reply, 'chat'));
  }

  /**
   * A completion: the body's `Content-Encoding` undone (gzip / deflate, as on the v2 routes, within the body limit)
   * and read as JSON once, first, so the guards of the model it names run on compressed bodies too; a body that
   * cannot be inflated or read is answered by the endpoint, behind the guards, like any other unreadable body.
   */
  private async complete(req: FastifyRequest, reply: FastifyReply, kind: 'completion' | 'chat'): Promise<FastifyReply> {
    const call = callOf(req, reply);
    try {
      call.body = await decodeContentEncoding(req.headers['content-encoding'], call.body, this.settings.maxBodyBytes);
      call.json = await this.endpoint.readBody(call.body);
    } catch (err) {
      call.body = undefined;
      call.bodyError = err;
    }
    return sendThroughPipeline(this.pipeline, this.completions, () => requestedModel(call.json), req, reply, () => this.endpoint.complete(call, kind));
  }

  private readonly models = () => this.endpoint.models();
  private readonly completions = (call: OpenAICall) => this.endpoint.complete(call, 'completion');

}

/** The `model` a completion body names, for its class's guards (the endpoint checks the body itself); read only when a guard or interceptor exists. */
function requestedModel(json: unknown): string | undefined {
  const model = typeof json === 'object' && json !== null ? (json as { model?: unknown }).model : undefined;
  return typeof model === 'string' ? model : undefined;
}

function callOf(req: FastifyRequest, reply: FastifyReply): OpenAICall {
  return { method: req.method, url: req.url, headers: req.headers, body: Buffer.isBuffer(req.body) ? req.body : undefined, res: reply.raw };
}
