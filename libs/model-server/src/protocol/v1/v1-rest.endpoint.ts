import { Buffer } from 'node:buffer';
import { Logger } from '@nestjs/common';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { JsonContentCodec } from '../../codecs/content/json-content.codec';
import { predictionsJson } from '../../codecs/content/json-content.codec';
import { contentTarget } from '../../codecs/content/content-target.util';
import { mediaTypeOf } from '../../codecs/content/media-type.util';
import { TensorBudget } from '../../codecs/tensor-budget';
import type { WireInferenceRequest } from '../../codecs/wire-tensor.interface';
import type { CallOptions } from '../../inference/call-options.interface';
import type { DataPlane } from '../../inference/data-plane';
import type { DataPlaneRequest, ReadyVersion, RequestEdges } from '../../inference/data-plane-request';
import type { ModelCatalog } from '../../inference/model-catalog';
import { checkRequestLimits, jsonValueBudget } from '../../inference/request-limits';
import type { InferenceResponse } from '../../model/inference.interface';
import { errorAnswer, jsonAnswer, type HttpAnswer } from '../http/http-answer';
import { logHttpFault } from '../http/http-status.map';
import { holdBodyBytes } from '../v2/rest/body-hold.util';
import type { Context } from '@opentelemetry/api';
import { startHttpServerSpan, tracedAnswer } from '../http/http-server-span';
import { completeCallOptions, openCallOptions } from '../v2/rest/rest-call-options.util';
import { isJsonMediaType } from '../v2/rest/v2-body.parser';
import { inflateBody } from '../http/content-encoding';
import { unsupportedContentType } from '../../errors';

/** What a v1 model route does: `:predict` runs `infer`, `:explain` runs `explain`. @internal */
export type V1Verb = 'predict' | 'explain';

/** The protocol label of v1 requests in monitoring records, metrics and logs. @internal */
export const V1_PROTOCOL = 'v1';

/** One call of a v1 route, as the Fastify door received it. @internal */
export interface V1Call {
  method: string;
  url: string;
  /** The model the path names (undefined on the listing). */
  model: string | undefined;
  headers: IncomingHttpHeaders;
  /** The body's bytes as sent (undefined: none). */
  body: Buffer | undefined;
  /** The response: tells when the client goes away, and when the answer is done. */
  res: ServerResponse;
}

/** What the v1 endpoint is built from. @internal */
export interface V1RestSettings {
  /** Largest request body, in bytes, after inflation. */
  maxBodyBytes: number;
  /** Put stack traces of server faults in error messages. */
  debug: boolean;
}

/**
 * KServe's v1 protocol over HTTP, knowing nothing of Fastify: `GET /v1/models` (the names), `GET /v1/models/:m`
 * (ready: 200, else the 404 or 503 v2 gives), `POST /v1/models/:m:predict` and `:explain`. A body
 * (`{"instances": [...]}`, `{"inputs": [...]}`, or anything else the JSON content codec reads) is decoded inside
 * the request by the data plane, like SageMaker's `/invocations`: rows fill the model's declared input, or one
 * tensor whose datatype the values decide when the model declares none. The answer is `{"predictions": ...}`
 * (`{"explanations": ...}`) with one prediction per instance. The request is admitted, within its deadline
 * (`X-Request-Timeout`, the model's and the server's), held in the byte budget and in its one monitoring event
 * (protocol `v1`) like a v2 one. It never throws: every failure is an answer from the error catalogue.
 *
 * @internal
 */
export class V1RestEndpoint {
  private readonly logger = new Logger('V1Rest');
  private readonly reading: V1Reading;

  constructor(
    private readonly dataPlane: DataPlane,
    private readonly catalog: ModelCatalog,
    json: JsonContentCodec,
    private readonly settings: V1RestSettings,
  ) {
    this.reading = { json, dataPlane };
  }

  /** `{"models": [names]}`: every model the server serves, whatever its state. */
  listModels(): HttpAnswer {
    return jsonAnswer(200, JSON.stringify({ models: this.catalog.listModels().models.map((m) => m.name) }));
  }

  /** `{"name", "ready": true}` when the model's default version serves requests; else its 404 or 503. */
  modelReady(call: V1Call): HttpAnswer {
    try {
      this.dataPlane.readyVersion(call.model!, undefined);
      return jsonAnswer(200, JSON.stringify({ name: call.model, ready: true }));
    } catch (err) {
      return this.fail(call, err, undefined);
    }
  }

  /** `:predict` or `:explain`: the body decoded inside the request, the answer in v1's shape. */
  async inference(call: V1Call, verb: V1Verb): Promise<HttpAnswer> {
    const span = startHttpServerSpan(this.dataPlane.tracer, call.method, `/v1/models/{model}:${verb}`, call.url, call.headers, call.res);
    const answer = await this.run(call, verb, span?.context);
    return tracedAnswer(span, answer);
  }

  private async run(call: V1Call, verb: V1Verb, traceContext: Context | undefined): Promise<HttpAnswer> {
    const req = this.dataPlane.begin(opOf(verb), call.model!, undefined, openV1Call(call.headers, traceContext));
    try {
      const body = await this.read(call);
      holdBodyBytes(this.dataPlane.byteBudget, body.length, call.res);
      completeCallOptions(req.call, call.headers, call.res);
      return await req.invoke(new V1Edges(this.reading, call.model!, body, verb));
    } catch (err) {
      return this.fail(call, err, req);
    }
  }

  /**
   * The answer to a request refused before its handler ran (body over the limit...): the catalogue's answer,
   * logged, and the refusal's monitoring event when it addressed a model's predict or explain.
   */
  refused(call: V1Call, verb: V1Verb | undefined, err: unknown): HttpAnswer {
    const req = verb === undefined || call.model === undefined ? undefined : this.dataPlane.begin(opOf(verb), call.model, undefined, openV1Call(call.headers));
    return this.fail(call, err, req);
  }

  /** The body's bytes: JSON (any of the types the v2 routes read as JSON), gzip or deflate inflated. */
  private async read(call: V1Call): Promise<Buffer> {
    const type = call.headers['content-type'];
    if (!isJsonMediaType(type)) throw unsupportedContentType(mediaTypeOf(type), 'the v1 routes take JSON: {"instances": [...]} or {"inputs": [...]}');
    const body = call.body ?? EMPTY;
    const encoding = call.headers['content-encoding'];
    return encoding === undefined || body.length === 0 ? body : inflateBody(body, encoding, this.settings.maxBodyBytes);
  }

  private fail(call: V1Call, err: unknown, req: DataPlaneRequest | undefined): HttpAnswer {
    req?.refuse(err);
    logHttpFault(this.logger, call.method, call.url, err);
    return errorAnswer(err, this.settings.debug);
  }
}

const EMPTY = Buffer.alloc(0);

/** What a v1 request's reading and writing need. */
interface V1Reading {
  readonly json: JsonContentCodec;
  readonly dataPlane: DataPlane;
}

/**
 * One v1 request's reading and writing, run by the data plane inside the request (stages `input` and `output`):
 * the JSON content codec reads the body for the model's declared input (or one tensor of inferred datatype), and
 * the answer is the response's outputs as v1 predictions (explanations).
 */
class V1Edges implements RequestEdges<HttpAnswer> {
  constructor(
    private readonly reading: V1Reading,
    private readonly name: string,
    private readonly body: Buffer,
    private readonly verb: V1Verb,
  ) {}

  readonly input = async (ready: ReadyVersion): Promise<WireInferenceRequest> => {
    const limits = this.reading.dataPlane.limits;
    const target = contentTarget(this.name, ready.version.inputs ?? [], limits.maxTensorBytes, { inferUndeclared: true, maxJsonValueBytes: jsonValueBudget(limits) });
    const decoded = await this.reading.json.decode(this.body, target, {}, new TensorBudget(limits.maxTensorBytes));
    checkRequestLimits(decoded.request, limits);
    return decoded.request;
  };

  readonly output = (response: InferenceResponse): HttpAnswer =>
    jsonAnswer(200, `{"${this.verb === 'predict' ? 'predictions' : 'explanations'}":${predictionsJson(response)}}`);
}

function opOf(verb: V1Verb): 'infer' | 'explain' {
  return verb === 'predict' ? 'infer' : 'explain';
}

/** What is known of a v1 call before anything in it is checked: the REST call's, labelled `v1`. */
function openV1Call(headers: IncomingHttpHeaders, traceContext?: Context): CallOptions {
  return { ...openCallOptions(headers, traceContext), protocol: V1_PROTOCOL };
}
