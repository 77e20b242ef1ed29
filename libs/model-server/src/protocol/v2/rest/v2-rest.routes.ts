import { Logger } from '@nestjs/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { stringifyJson } from '../../../codecs';
import type { WireInferenceRequest } from '../../../codecs/wire-tensor.interface';
import { ErrorCode } from '../../../errors/error-code.enum';
import { invalidRequest, routeNotFound } from '../../../errors/errors';
import { isModelServerError, ModelServerError } from '../../../errors/model-server.error';
import type { OperationInput } from '../../../inference/call-options.interface';
import type { DataPlane } from '../../../inference/data-plane';
import type { ModelCatalog } from '../../../inference/model-catalog';
import type { InferenceResponse } from '../../../model/inference.interface';
import { pinToMember } from '../../../routing/member-route.util';
import { attachBinaryInputs, serializeBinaryResponse, wantsBinaryResponse } from './binary-tensor.framing';
import { readBodyPath, writeBodyPath } from './body-path.util';
import { callOptions, passedHeaders } from './rest-call.options';
import { errorBody, logHttpFault, toHttpError } from './http-status.map';
import { BinaryBody, INFERENCE_HEADER, isStrictJsonMediaType, largeBodyBytes, parseV2Body } from './v2-body.parser';
import { holdBodyBytes } from './body-hold.util';
import { checkRequestLimits } from '../../../inference/request-limits';
import { clip } from '../../../errors/clip.util';
import { serializeInferenceResponse } from '../../../codecs/v2-json/v2-json.serializer';
import { checkInferenceRequest, looksLikeInferenceRequest } from '../../../codecs/v2-json/v2-request.schema';

/** Per-model body paths (MLRun's `input_path` / `result_path`). @internal */
export interface BodyPaths {
  inputPath?: string;
  resultPath?: string;
}

/** What the v2 REST routes are built from. @internal */
export interface V2RestSettings {
  /** Largest request body, in bytes, after inflation. */
  maxBodyBytes: number;
  /** Put stack traces of server faults in error messages. */
  debug: boolean;
  /** Models with body paths, by name. */
  bodyPaths: ReadonlyMap<string, BodyPaths>;
}

interface ModelParams {
  model: string;
  version?: string;
  op?: string;
  member?: string;
}

/** Content types of the v2 answers. @internal */
export const JSON_TYPE = 'application/json; charset=utf-8';
export const BINARY_TYPE = 'application/octet-stream';

/**
 * The KServe v2 / Open Inference Protocol over REST. Routes are registered straight on the Fastify instance
 * (no Nest interceptor or pipe on the request path): parse, structural check, data plane, serialize.
 *
 * @internal
 */
export class V2RestRoutes {
  private readonly logger = new Logger('V2Rest');

  constructor(
    private readonly dataPlane: DataPlane,
    private readonly catalog: ModelCatalog,
    private readonly settings: V2RestSettings,
  ) {}

  /** Registers the `/v2` routes as an encapsulated plugin (its own body parser, error and 404 handlers). */
  register(app: FastifyInstance): void {
    app.register(async (v2) => this.routes(v2), { prefix: '/v2' });
  }

  private routes(v2: FastifyInstance): void {
    const { maxBodyBytes } = this.settings;
    v2.removeAllContentTypeParsers();
    const parse = (request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => parseV2Body(request, body, maxBodyBytes, done);
    // The same parser twice: Fastify finds an exact media type much faster than it falls back to the catch-all.
    v2.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, parse);
    v2.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, parse);
    v2.setErrorHandler(this.onError);
    v2.setNotFoundHandler(this.onNotFound);
    const post = { bodyLimit: maxBodyBytes };

    v2.get('/', this.serverMetadata);
    v2.get('/health/live', this.live);
    v2.get('/health/ready', this.ready);
    v2.get('/models', this.listModels);
    v2.post('/repository/index', post, this.repositoryIndex);
    // Routes that change the server's state take JSON only: a browser cannot send that cross-site without asking first.
    const control = { bodyLimit: maxBodyBytes, onRequest: requireJsonType };
    v2.post('/repository/models/:model/load', control, this.loadModel);
    v2.post('/repository/models/:model/unload', control, this.unloadModel);
    for (const base of ['/models/:model', '/models/:model/versions/:version']) {
      v2.get(base, this.modelMetadata);
      v2.get(`${base}/ready`, this.modelReady);
      v2.post(`${base}/infer`, post, this.infer);
      v2.post(`${base}/explain`, post, this.explain);
      v2.post(`${base}/:op`, post, this.operation);
      v2.get(`${base}/:op`, this.operation);
      v2.post(`${base}/:member/infer`, post, this.memberInfer);
    }
  }

  private readonly serverMetadata = async (_req: FastifyRequest, reply: FastifyReply) =>
    sendJson(reply, 200, JSON.stringify(this.catalog.serverMetadata()));

  private readonly live = async (_req: FastifyRequest, reply: FastifyReply) => sendJson(reply, 200, '{"live":true}');

  private readonly ready = async (_req: FastifyRequest, reply: FastifyReply) =>
    this.catalog.ready()
      ? sendJson(reply, 200, '{"ready":true}')
      : sendJson(reply, 503, JSON.stringify({ ready: false, error: 'not every model is ready (GET /v2/models lists their states)' }));

  private readonly listModels = async (_req: FastifyRequest, reply: FastifyReply) =>
    sendJson(reply, 200, JSON.stringify(this.catalog.listModels()));

  private readonly repositoryIndex = async (req: FastifyRequest, reply: FastifyReply) => {
    const body = req.body as { ready?: unknown } | undefined;
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      throw invalidRequest('the repository index body, when given, is an object like {"ready": true}');
    }
    if (body?.ready !== undefined && typeof body.ready !== 'boolean') throw invalidRequest('"ready" must be a boolean');
    return sendJson(reply, 200, JSON.stringify(this.catalog.repositoryIndex(body?.ready === true)));
  };

  private readonly loadModel = async (req: FastifyRequest, reply: FastifyReply) =>
    sendJson(reply, 200, JSON.stringify(await this.catalog.loadModel((req.params as ModelParams).model)));

  private readonly unloadModel = async (req: FastifyRequest, reply: FastifyReply) =>
    sendJson(reply, 200, JSON.stringify(await this.catalog.unloadModel((req.params as ModelParams).model)));

  private readonly modelMetadata = async (req: FastifyRequest, reply: FastifyReply) => {
    const { model, version } = req.params as ModelParams;
    return sendJson(reply, 200, JSON.stringify(this.catalog.modelMetadata(model, version)));
  };

  private readonly modelReady = async (req: FastifyRequest, reply: FastifyReply) => {
    const { model, version } = req.params as ModelParams;
    return this.catalog.modelReady(model, version)
      ? sendJson(reply, 200, JSON.stringify({ name: model, ready: true }))
      : sendJson(reply, 503, JSON.stringify({ name: model, ready: false, error: `model '${model}' is not ready` }));
  };

  private readonly infer = async (req: FastifyRequest, reply: FastifyReply) => {
    const { model, version } = req.params as ModelParams;
    holdBodyBytes(this.dataPlane.byteBudget, largeBodyBytes(req), reply.raw);
    const wire = this.readInferenceRequest(model, req.body);
    const response = await this.dataPlane.infer(model, version, wire, callOptions(req.headers, reply.raw));
    return this.sendInference(reply, model, req.body, wire, response);
  };

  private readonly explain = async (req: FastifyRequest, reply: FastifyReply) => {
    const { model, version } = req.params as ModelParams;
    holdBodyBytes(this.dataPlane.byteBudget, largeBodyBytes(req), reply.raw);
    const wire = this.readInferenceRequest(model, req.body);
    const response = await this.dataPlane.explain(model, version, wire, callOptions(req.headers, reply.raw));
    return this.sendInference(reply, model, req.body, wire, response);
  };

  /** MLRun's router URL form: the router's request pinned to one of its members, still through the data plane. */
  private readonly memberInfer = async (req: FastifyRequest, reply: FastifyReply) => {
    const { model, version, member } = req.params as ModelParams;
    holdBodyBytes(this.dataPlane.byteBudget, largeBodyBytes(req), reply.raw);
    const wire = this.readInferenceRequest(model, req.body);
    const response = await this.dataPlane.infer(model, version, pinToMember(this.dataPlane, model, version, wire, member!), callOptions(req.headers, reply.raw));
    return this.sendInference(reply, model, req.body, wire, response);
  };

  private readonly operation = async (req: FastifyRequest, reply: FastifyReply) => {
    const { model, version, op } = req.params as ModelParams;
    holdBodyBytes(this.dataPlane.byteBudget, largeBodyBytes(req), reply.raw);
    const body = this.requestPart(model, req.body);
    let input: OperationInput;
    if (looksLikeInferenceRequest(body)) {
      input = { wire: this.readInferenceRequest(model, req.body) };
    } else {
      if (body instanceof BinaryBody) throw invalidRequest('a binary-framed body must be a v2 inference request');
      input = { body };
    }
    const output = await this.dataPlane.operation(model, version, op!, input, callOptions(req.headers, reply.raw));
    if (output.kind === 'inference') return this.sendInference(reply, model, req.body, input.wire!, output.response);
    return this.sendJsonAt(reply, model, req.body, stringifyJson(output.value));
  };

  /** The v2 request inside a body: at the model's input path, binary tail attached. */
  private readInferenceRequest(model: string, body: unknown): WireInferenceRequest {
    const wire = checkInferenceRequest(this.requestPart(model, body instanceof BinaryBody ? body.header : body));
    checkRequestLimits(wire, this.dataPlane.limits);
    if (body instanceof BinaryBody) attachBinaryInputs(wire, body.tail);
    return wire;
  }

  private requestPart(model: string, body: unknown): unknown {
    const inputPath = this.settings.bodyPaths.get(model)?.inputPath;
    if (inputPath === undefined || body === undefined || body instanceof BinaryBody) return body;
    return readBodyPath(body, inputPath);
  }

  private sendInference(
    reply: FastifyReply,
    model: string,
    body: unknown,
    wire: WireInferenceRequest,
    response: InferenceResponse,
  ): FastifyReply {
    if (wantsBinaryResponse(wire)) {
      const binary = serializeBinaryResponse(response, wire);
      return reply.code(200).header('content-type', BINARY_TYPE).header(INFERENCE_HEADER, String(binary.headerLength)).send(binary.body);
    }
    return this.sendJsonAt(reply, model, body, serializeInferenceResponse(response));
  }

  /** Sends JSON text, written into the original body at the model's result path when it has one. */
  private sendJsonAt(reply: FastifyReply, model: string, body: unknown, text: string): FastifyReply {
    const resultPath = this.settings.bodyPaths.get(model)?.resultPath;
    if (resultPath === undefined) return sendJson(reply, 200, text);
    // Write a marker at the path, serialize the body, then put the response text in the marker's place.
    const marker = `\u0000result:${process.hrtime.bigint()}\u0000`;
    const whole = stringifyJson(writeBodyPath(body instanceof BinaryBody ? body.header : body, resultPath, marker));
    return sendJson(reply, 200, whole.replace(JSON.stringify(marker), () => text));
  }

  private readonly onError = (error: FastifyError | ModelServerError, req: FastifyRequest, reply: FastifyReply) => {
    const coded = fromFastify(error, this.settings.maxBodyBytes);
    reportRefused(this.dataPlane, req, coded);
    const answer = toHttpError(coded, this.settings.debug);
    logHttpFault(this.logger, req.method, req.url, answer, coded);
    if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds));
    return sendJson(reply, answer.status, errorBody(answer.message));
  };

  private readonly onNotFound = (req: FastifyRequest, reply: FastifyReply) =>
    sendJson(reply, 404, errorBody(routeNotFound(req.method, clip(req.url.split('?')[0])).message));
}

/** Refuses (415) a request whose content type is not JSON, before its body is read. */
function requireJsonType(req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  const type = req.headers['content-type'];
  if (type !== undefined && isStrictJsonMediaType(type)) return done();
  done(
    new ModelServerError(
      ErrorCode.UnsupportedMediaType,
      `this route changes the server's state and takes only application/json (send Content-Type: application/json, with {} or no body); got ${type === undefined ? 'no content type' : `'${clip(type, 100)}'`}`,
    ),
  );
}

function sendJson(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).header('content-type', JSON_TYPE).send(text);
}

/**
 * Gives monitoring its one event for a refused request to a model's infer, explain or operation route (body
 * unreadable, structural check failed...); the data plane skips errors whose event it already emitted.
 */
function reportRefused(dataPlane: DataPlane, req: FastifyRequest, error: unknown): void {
  const url = req.routeOptions?.url;
  if (url === undefined || !url.includes('/models/:model')) return;
  const params = req.params as ModelParams;
  const op = url.endsWith('/infer') ? 'infer' : url.endsWith('/explain') ? 'explain' : url.endsWith('/:op') ? params.op : undefined;
  if (op === undefined || params.model === undefined) return;
  const body = req.body instanceof BinaryBody ? req.body.header : req.body;
  dataPlane.reportRejected(op, params.model, params.version, body, error, { protocol: 'rest', headers: passedHeaders(req.headers) });
}

/** Gives Fastify's own errors (parser, limits) their catalogue code and a message that says what to do. */
function fromFastify(error: FastifyError | ModelServerError, maxBodyBytes: number): unknown {
  if (isModelServerError(error)) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ModelServerError(
        ErrorCode.PayloadTooLarge,
        `the request body is larger than ${maxBodyBytes} bytes, the limit (set maxBodyBytes in the config or MAX_BODY_BYTES)`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ModelServerError(ErrorCode.UnsupportedMediaType, `unsupported content type: ${error.message}`);
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new ModelServerError(status === 413 ? ErrorCode.PayloadTooLarge : ErrorCode.InvalidRequest, error.message);
  }
  return error;
}
