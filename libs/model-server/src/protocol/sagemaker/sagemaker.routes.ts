import { Buffer } from 'node:buffer';
import { Logger } from '@nestjs/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ModelServerError } from '../../errors/model-server.error';
import type { CallOptions } from '../../inference/call-options.interface';
import { fromFastify } from '../http/fastify-errors';
import { isIdentityEncoding } from '../http/content-encoding';
import { collectBodyBytes } from '../http/request-body.reader';
import { errorAnswer, jsonAnswer, sendAnswer, statusErrorAnswer, type HttpAnswer } from '../http/http-answer';
import { logHttpFault } from '../http/http-status.map';
import { startHttpServerSpan } from '../http/http-server-span';
import { TRACEPARENT } from '../../tracing/traceparent.util';
import type { Context } from '@opentelemetry/api';
import { holdBodyBytes } from '../v2/rest/body-hold.util';
import { completeCallOptions, openCallOptions } from '../v2/rest/rest-call-options.util';
import { parseJsonBody } from '../../codecs/json-body.parser';
import type { MultiModelService } from './multi-model.service';
import { requireJsonType, sendThroughPipeline, type V2RoutePipeline } from '../v2/rest/v2-rest.routes';
import type { Invocation, SageMakerService } from './sagemaker.service';
import { invalidRequest, invocationEncodingUnsupported } from '../../errors';

/** The header naming the model of a multi-model endpoint. @publicApi */
export const TARGET_MODEL_HEADER = 'x-amzn-sagemaker-target-model';
/** The header SageMaker passes through from `InvokeEndpoint`'s `CustomAttributes`. @publicApi */
export const CUSTOM_ATTRIBUTES_HEADER = 'x-amzn-sagemaker-custom-attributes';

/** What the SageMaker routes are built from. @internal */
export interface SageMakerRouteSettings {
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Stack traces of server faults in error messages. */
  debug: boolean;
  /** Whether `/ping`'s answer may say which models are not ready (not when it is open while they are protected). */
  pingNamesModels: boolean;
}

/** The invoke route of a multi-model endpoint. */
const MODEL_INVOKE = '/models/:name/invoke';

/**
 * The SageMaker serving contract over HTTP: `GET /ping`, `POST /invocations`, `GET /execution-parameters`, and,
 * in multi-model mode, `POST /models`, `GET /models`, `GET /models/:name`, `DELETE /models/:name` and
 * `POST /models/:name/invoke`, in an encapsulated Fastify plugin with its own raw-body parser and
 * `{"error": ...}` handler. The work is the {@link SageMakerService}'s and the {@link MultiModelService}'s.
 *
 * @internal
 */
export class SageMakerRoutes {
  private readonly logger = new Logger('SageMaker');

  constructor(
    private readonly service: SageMakerService,
    private readonly settings: SageMakerRouteSettings,
    /** The application's guards and interceptors around the invocations (its model's, by the target), when it has any. */
    private readonly pipeline?: V2RoutePipeline,
    /** The multi-model API, when that mode is on. */
    private readonly multiModel?: MultiModelService,
  ) {}

  register(app: FastifyInstance): void {
    app.register(async (sm) => this.routes(sm));
  }

  private routes(sm: FastifyInstance): void {
    const bodyLimit = this.settings.maxBodyBytes;
    collectBodyBytes(sm, bodyLimit);
    sm.setErrorHandler(this.onError);
    sm.get('/ping', this.ping);
    sm.post('/invocations', this.invocations);
    sm.get('/execution-parameters', this.executionParameters);
    if (this.multiModel !== undefined) this.multiModelRoutes(sm, this.multiModel);
  }

  /**
   * SageMaker's multi-model endpoint contract. A load runs the code of a model folder, so `POST /models` takes
   * only `application/json` (415 before the body is read), as the v2 repository routes do: a web page cannot
   * load a model with a cross-site "simple" request. `DELETE /models/:name` has no body, and browsers send
   * `DELETE` cross-site only after a CORS preflight; invoke is inference and reads the content types of
   * `/invocations`. With auth configured, every one of these routes needs credentials (none is declared open).
   */
  private multiModelRoutes(sm: FastifyInstance, mme: MultiModelService): void {
    // Failures reach onError, which answers them.
    sm.post('/models', { onRequest: requireJsonType }, async (req, reply) => sendJson(reply, 200, JSON.stringify(await mme.load(await jsonBody(req.body, this.service.maxJsonValueBytes)))));
    sm.get('/models', async (req, reply) => {
      const query = req.query as Record<string, string | string[] | undefined>;
      return sendJson(reply, 200, JSON.stringify(mme.list(single(query.next_page_token), single(query.limit))));
    });
    sm.get('/models/:name', async (req, reply) => sendJson(reply, 200, JSON.stringify(mme.describe((req.params as { name: string }).name))));
    sm.delete('/models/:name', async (req, reply) => sendJson(reply, 200, JSON.stringify(await mme.unload((req.params as { name: string }).name))));
    sm.post(MODEL_INVOKE, (req, reply) => this.spanned(req, reply, (req.params as { name: string }).name));
  }

  private readonly ping = async (_req: FastifyRequest, reply: FastifyReply) => {
    const result = await this.service.ping();
    if (result.ready) return sendJson(reply, 200, '{"ready":true}');
    const reason = this.settings.pingNamesModels ? (result.reason ?? 'not ready') : 'not ready (GET /v2/models, with credentials, lists the models\' states)';
    return sendAnswer(reply, statusErrorAnswer(503, reason));
  };

  private readonly invocations = (req: FastifyRequest, reply: FastifyReply) => this.spanned(req, reply, undefined);

  /** An invocation, inside its server span when tracing (the answer then carries `traceparent`). */
  private async spanned(req: FastifyRequest, reply: FastifyReply, model: string | undefined): Promise<FastifyReply> {
    const span = startHttpServerSpan(this.service.tracer, 'POST', req.routeOptions.url ?? '/invocations', req.url, req.headers, reply.raw);
    if (span === null) return this.guarded(req, reply, model, undefined);
    reply.header(TRACEPARENT, span.traceparent());
    try {
      return await this.guarded(req, reply, model, span.context);
    } finally {
      span.endHttp(reply.statusCode);
    }
  }

  /** An invocation behind the application's guards and interceptors, when it has any. */
  private async guarded(req: FastifyRequest, reply: FastifyReply, model: string | undefined, traceContext: Context | undefined): Promise<FastifyReply> {
    let target = model;
    if (target === undefined && this.pipeline !== undefined) {
      try {
        target = this.service.targetModel(single(req.headers[TARGET_MODEL_HEADER]));
      } catch {
        target = undefined; // the invocation answers that itself, behind the global guards
      }
    }
    return sendThroughPipeline(this.pipeline, this.invoke, target, req, reply, () => this.invoke(req, reply, model, traceContext));
  }

  /**
   * `/invocations` (the model from the target header), or a multi-model endpoint's `/models/{model}/invoke`.
   * Answers its own failures (the service gave the request its monitoring event); only Fastify's reach onError.
   */
  private readonly invoke = async (req: FastifyRequest, reply: FastifyReply, model?: string, traceContext?: Context): Promise<HttpAnswer> => {
    const targetModel = single(req.headers[TARGET_MODEL_HEADER]);
    let invocation: Invocation;
    try {
      const encoding = req.headers['content-encoding'];
      if (encoding !== undefined && !isIdentityEncoding(encoding)) {
        throw invocationEncodingUnsupported(encoding);
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      holdBodyBytes(this.service.byteBudget, body.length, reply.raw);
      invocation = { body, contentType: req.headers['content-type'], accept: req.headers.accept, targetModel, model, call: sageMakerCall(req, reply, traceContext) };
    } catch (err) {
      this.service.refused(targetModel, sageMakerCallOpened(req, traceContext), err, model);
      return this.failure(req, err);
    }
    try {
      const result = await this.service.invoke(invocation);
      const type = typeof result.body === 'string' && !/;\s*charset=/i.test(result.contentType) ? `${result.contentType}; charset=utf-8` : result.contentType;
      return { status: 200, headers: { 'content-type': type }, body: result.body };
    } catch (err) {
      return this.failure(req, err);
    }
  }

  private readonly executionParameters = async (_req: FastifyRequest, reply: FastifyReply) =>
    sendJson(reply, 200, JSON.stringify(this.service.executionParameters()));

  /** Fastify's own refusals (body over the limit...): an /invocations one is still a request to its model. */
  private readonly onError = (error: FastifyError | ModelServerError, req: FastifyRequest, reply: FastifyReply) => {
    const coded = fromFastify(error, this.settings.maxBodyBytes);
    const route = req.routeOptions.url;
    if (route === '/invocations' || route === MODEL_INVOKE) {
      const model = route === MODEL_INVOKE ? (req.params as { name: string }).name : undefined;
      this.service.refused(single(req.headers[TARGET_MODEL_HEADER]), sageMakerCallOpened(req), coded, model);
    }
    return this.fail(req, reply, coded);
  };

  private fail(req: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
    return sendAnswer(reply, this.failure(req, error));
  }

  private failure(req: FastifyRequest, error: unknown): HttpAnswer {
    const coded = fromFastify(error as FastifyError, this.settings.maxBodyBytes);
    logHttpFault(this.logger, req.method, req.url, coded);
    return errorAnswer(coded, this.settings.debug);
  }
}

function sendJson(reply: FastifyReply, status: number, text: string): FastifyReply {
  return sendAnswer(reply, jsonAnswer(status, text));
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A management request's JSON body (bytes from the plugin's parser, read as every request body is: within `maxValueBytes`), or a 400. */
function jsonBody(body: unknown, maxValueBytes: number): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) throw invalidRequest('send a JSON body {"model_name": "...", "url": "..."}');
  return parseJsonBody(body, { valuesOnly: true, maxValueBytes });
}

/**
 * The HTTP call options (client disconnect, `X-Request-Timeout`, `traceparent`) labelled `sagemaker`, with the
 * custom attributes passed on to model code (`ctx.headers`) and monitoring.
 */
function sageMakerCall(req: FastifyRequest, reply: FastifyReply, traceContext: Context | undefined): CallOptions {
  return completeCallOptions(sageMakerCallOpened(req, traceContext), req.headers, reply.raw);
}

/** What is known of an invocation before anything in it is checked (the call of a refusal's monitoring event). */
function sageMakerCallOpened(req: FastifyRequest, traceContext?: Context): CallOptions {
  const options: CallOptions = { ...openCallOptions(req.headers, traceContext), protocol: 'sagemaker' };
  const attributes = single(req.headers[CUSTOM_ATTRIBUTES_HEADER]);
  if (attributes !== undefined) options.headers = { ...options.headers, [CUSTOM_ATTRIBUTES_HEADER]: attributes };
  // A multi-model endpoint's invoke names the model in its path; the original target model is for logging.
  const target = req.routeOptions.url === MODEL_INVOKE ? single(req.headers[TARGET_MODEL_HEADER]) : undefined;
  if (target !== undefined) options.headers = { ...options.headers, [TARGET_MODEL_HEADER]: target };
  return options;
}
