import { Logger } from '@nestjs/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../errors/error-code.enum';
import { ModelServerError } from '../../errors/model-server.error';
import type { CallOptions } from '../../inference/call-options.interface';
import { fromFastify } from '../http/fastify-errors';
import { errorAnswer, jsonAnswer, sendAnswer } from '../http/http-answer';
import { errorBody, logHttpFault } from '../http/http-status.map';
import { holdBodyBytes } from '../v2/rest/body-hold.util';
import { callOptions } from '../v2/rest/rest-call.options';
import type { SageMakerService } from './sagemaker.service';

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

/**
 * The SageMaker serving contract over HTTP: `GET /ping`, `POST /invocations`, `GET /execution-parameters`, in an
 * encapsulated Fastify plugin with its own raw-body parser and `{"error": ...}` handler. The work is the
 * {@link SageMakerService}'s.
 *
 * @internal
 */
export class SageMakerRoutes {
  private readonly logger = new Logger('SageMaker');

  constructor(
    private readonly service: SageMakerService,
    private readonly settings: SageMakerRouteSettings,
  ) {}

  register(app: FastifyInstance): void {
    app.register(async (sm) => this.routes(sm));
  }

  private routes(sm: FastifyInstance): void {
    const bodyLimit = this.settings.maxBodyBytes;
    sm.removeAllContentTypeParsers();
    sm.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: Buffer) => void) => done(null, body));
    sm.setErrorHandler(this.onError);
    sm.get('/ping', this.ping);
    sm.post('/invocations', { bodyLimit }, this.invocations);
    sm.get('/execution-parameters', this.executionParameters);
  }

  private readonly ping = async (_req: FastifyRequest, reply: FastifyReply) => {
    const result = await this.service.ping();
    if (result.ready) return sendJson(reply, 200, '{"ready":true}');
    const reason = this.settings.pingNamesModels ? (result.reason ?? 'not ready') : 'not ready (GET /v2/models, with credentials, lists the models\' states)';
    return sendJson(reply, 503, errorBody(reason));
  };

  private readonly invocations = async (req: FastifyRequest, reply: FastifyReply) => {
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity' && encoding.trim() !== '') {
      throw new ModelServerError(ErrorCode.UnsupportedMediaType, `content encoding '${encoding}' is not supported on /invocations; send the body uncompressed`);
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    holdBodyBytes(this.service.byteBudget, body.length, reply.raw);
    const result = await this.service.invoke({
      body,
      contentType: req.headers['content-type'],
      accept: req.headers.accept,
      targetModel: single(req.headers[TARGET_MODEL_HEADER]),
      call: sageMakerCall(req, reply),
    });
    const type = typeof result.body === 'string' && !/;\s*charset=/i.test(result.contentType) ? `${result.contentType}; charset=utf-8` : result.contentType;
    return reply.code(200).header('content-type', type).send(result.body);
  };

  private readonly executionParameters = async (_req: FastifyRequest, reply: FastifyReply) =>
    sendJson(reply, 200, JSON.stringify(this.service.executionParameters()));

  private readonly onError = (error: FastifyError | ModelServerError, req: FastifyRequest, reply: FastifyReply) => {
    const coded = fromFastify(error, this.settings.maxBodyBytes);
    logHttpFault(this.logger, req.method, req.url, coded);
    return sendAnswer(reply, errorAnswer(coded, this.settings.debug));
  };
}

function sendJson(reply: FastifyReply, status: number, text: string): FastifyReply {
  return sendAnswer(reply, jsonAnswer(status, text));
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The HTTP call options (client disconnect, `X-Request-Timeout`, `traceparent`) labelled `sagemaker`, with the
 * custom attributes passed on to model code (`ctx.headers`) and monitoring.
 */
function sageMakerCall(req: FastifyRequest, reply: FastifyReply): CallOptions {
  const options: CallOptions = { ...callOptions(req.headers, reply.raw), protocol: 'sagemaker' };
  const attributes = single(req.headers[CUSTOM_ATTRIBUTES_HEADER]);
  if (attributes !== undefined) options.headers = { ...options.headers, [CUSTOM_ATTRIBUTES_HEADER]: attributes };
  return options;
}
