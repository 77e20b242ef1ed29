import process from 'node:process';
import { Buffer } from 'node:buffer';
import { Logger } from '@nestjs/common';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { stringifyJson } from '../../../codecs';
import type { WireInferenceRequest } from '../../../codecs/wire-tensor.interface';
import type { OperationInput } from '../../../inference/call-options.interface';
import type { DataPlane } from '../../../inference/data-plane';
import type { DataPlaneRequest } from '../../../inference/data-plane-request';
import type { ModelCatalog } from '../../../inference/model-catalog';
import { checkRequestLimits, jsonValueBudget } from '../../../inference/request-limits';
import type { InferenceResponse } from '../../../model/inference.interface';
import type { TensorSpec } from '../../../model/tensor.interface';
import { BINARY_TYPE, INFERENCE_HEADER } from '../../http/binary-framing';
import { errorAnswer, JSON_TYPE, jsonAnswer, StreamedBody, type HttpAnswer } from '../../http/http-answer';
import { errorBody, logHttpFault, toHttpError } from '../../http/http-status.map';
import { SSE_HEADERS, SseWriter } from '../../http/sse.writer';
import { startHttpServerSpan, tracedAnswer } from '../../http/http-server-span';
import type { ServerSpan } from '../../../tracing/server-span';
import type { ResponseStream } from '../../../inference/response-stream';
import { GenerateJsonWriter, generateRequest } from './generate.codec';
import { attachBinaryInputs, serializeBinaryResponse, wantsBinaryResponse } from './binary-tensor.framing';
import { holdBodyBytes } from './body-hold.util';
import { readBodyPath, writeBodyPath } from './body-path.util';
import { completeCallOptions, openCallOptions } from './rest-call-options.util';
import { BinaryBody, decodeV2Body, unreadBody, type DecodedBody } from './v2-body.parser';
import { V2_ROUTES, type V2Handler } from './v2-routes.table';
import { isLargeResponse, serializeInferenceResponse, serializeInferenceResponseChunks } from '../../../codecs/v2-json/v2-json.serializer';
import { stringifyBodyJson } from '../../../codecs/lossless-json';
import { checkInferenceRequest, looksLikeInferenceRequest } from '../../../codecs/v2-json/v2-request.schema';
import { clip, invalidRequest, JsonValuesTooLarge, limitExceeded } from '../../../errors';
import { contentTarget } from '../../../codecs/content/content-target.util';
import { plainResultOf } from '../../../inference/response-encoder';
import type { RouterMember } from '../../../routing/router-member.interface';
import { isMlrunBody, mlrunRequest, mlrunResponseJson } from './mlrun-form.util';

/** Per-model body paths (MLRun's `input_path` / `result_path`). @internal */
export interface BodyPaths {
  inputPath?: string;
  resultPath?: string;
}

/** What the v2 REST endpoint is built from. @internal */
export interface V2RestSettings {
  /** Largest request body, in bytes, after inflation. */
  maxBodyBytes: number;
  /** Put stack traces of server faults in error messages. */
  debug: boolean;
  /** Models with body paths, by name. */
  bodyPaths: ReadonlyMap<string, BodyPaths>;
}

/** The path parameters of a v2 route. @internal */
export interface V2Params {
  model?: string;
  version?: string;
  op?: string;
  member?: string;
}

/** One call of a v2 route, as either door received it. @internal */
export interface V2Call {
  method: string;
  url: string;
  params: V2Params;
  headers: IncomingHttpHeaders;
  /** The body's bytes as sent (undefined: none). */
  body: Buffer | undefined;
  /** The response: tells when the client goes away, and when the answer is done. */
  res: ServerResponse;
}

/**
 * The KServe v2 / Open Inference Protocol over HTTP, knowing nothing of Fastify: each route of the table
 * (v2-routes.table.ts) turns a call (path parameters, headers, body bytes) into an answer (status, headers,
 * body). Both doors call it: the Fastify routes and the fast lane in front of them, so a request gets the same
 * answer and the same monitoring event through either. It never throws: every failure is an answer from the
 * error catalogue. A request to a model's infer, explain or operation route is opened in the data plane before
 * its body is read, so a refused one gets its monitoring event there too.
 *
 * @internal
 */
export class V2RestEndpoint {
  private readonly logger = new Logger('V2Rest');
  /** The handlers by the table's names, bound once. */
  readonly handlers: Readonly<Record<V2Handler, (call: V2Call) => HttpAnswer | Promise<HttpAnswer>>>;
  /** The estimated heap the JSON values of a large body outside its tensor data may take, from the request limits. */
  private readonly jsonValues: number;

  constructor(
    private readonly dataPlane: DataPlane,
    private readonly catalog: ModelCatalog,
    private readonly settings: V2RestSettings,
  ) {
    this.jsonValues = jsonValueBudget(dataPlane.limits);
    this.handlers = {
      serverMetadata: () => jsonAnswer(200, JSON.stringify(this.catalog.serverMetadata())),
      live: () => jsonAnswer(200, '{"live":true}'),
      ready: () =>
        this.catalog.ready()
          ? jsonAnswer(200, '{"ready":true}')
          : jsonAnswer(503, JSON.stringify({ ready: false, error: 'not every model is ready (GET /v2/models lists their states)' })),
      listModels: () => jsonAnswer(200, JSON.stringify(this.catalog.listModels())),
      repositoryIndex: (call) => this.guarded(call, () => this.repositoryIndex(call)),
      // A version that does not end up ready fails the load: the catalog throws, as it does for gRPC.
      loadModel: (call) => this.guarded(call, async () => jsonAnswer(200, JSON.stringify(await this.catalog.loadModel(call.params.model!)))),
      unloadModel: (call) => this.guarded(call, async () => jsonAnswer(200, JSON.stringify(await this.catalog.unloadModel(call.params.model!)))),
      modelMetadata: (call) => this.guarded(call, () => jsonAnswer(200, JSON.stringify(this.catalog.modelMetadata(call.params.model!, call.params.version)))),
      modelReady: (call) => this.guarded(call, () => this.modelReady(call.params)),
      infer: (call) => this.traced(call, 'infer', (span) => this.inference(call, 'infer', span)),
      explain: (call) => this.traced(call, 'explain', (span) => this.inference(call, 'explain', span)),
      memberInfer: (call) => this.traced(call, 'memberInfer', (span) => this.inference(call, 'infer', span)),
      generate: (call) => this.traced(call, 'generate', (span) => this.generate(call, false, span)),
      generateStream: (call) => this.traced(call, 'generateStream', (span) => this.generate(call, true, span)),
      operation: (call) => this.traced(call, 'operation', (span) => this.operation(call, span)),
      modelPost: (call) => this.traced(call, 'modelPost', (span) => this.modelPost(call, span)),
      memberOperation: (call) => this.traced(call, 'memberOperation', (span) => this.memberOperation(call, span)),
    };
  }

  /**
   * The answer to a request refused before its handler ran (by the door: body over the limit, unreadable
   * content): the catalogue's answer, logged, and the refusal's monitoring event when it addressed a model's
   * infer, explain or operation route.
   */
  refused(call: V2Call, handler: V2Handler | undefined, err: unknown): HttpAnswer {
    const op = handler === undefined ? undefined : opOf(handler, call.params);
    return this.refusedAs(call, op, op === undefined ? null : this.serverSpan(call, handler!), err);
  }

  /** {@link refused} for operation `op` (none: no monitoring event), inside the request's server span `span`. */
  private refusedAs(call: V2Call, op: string | undefined, span: ServerSpan | null, err: unknown): HttpAnswer {
    const { model, version } = call.params;
    const req = op === undefined || model === undefined ? undefined : this.dataPlane.begin(op, model, version, openCallOptions(call.headers, span?.context));
    return tracedAnswer(span, this.fail(call, err, req, undefined));
  }

  /**
   * A model route's answer, inside its server span when tracing: `run` answers through `tracedAnswer` (the
   * answer then carries `traceparent` and ends the span), which costs no promise more a request; the answer
   * itself when `run` made it synchronously.
   */
  private traced(call: V2Call, handler: V2Handler, run: (span: ServerSpan | null) => HttpAnswer | Promise<HttpAnswer>): HttpAnswer | Promise<HttpAnswer> {
    return run(this.serverSpan(call, handler));
  }

  private serverSpan(call: V2Call, handler: V2Handler): ServerSpan | null {
    if (!this.dataPlane.tracer.on) return null;
    const route = routePath(handler, call);
    return startHttpServerSpan(this.dataPlane.tracer, call.method, route, call.url, call.headers, call.res);
  }

  private async guarded(call: V2Call, run: () => HttpAnswer | Promise<HttpAnswer>): Promise<HttpAnswer> {
    try {
      return await run();
    } catch (err) {
      return this.fail(call, err, undefined, undefined);
    }
  }

  private async repositoryIndex(call: V2Call): Promise<HttpAnswer> {
    const body = (await this.read(call)).value as { ready?: unknown } | undefined;
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      throw invalidRequest('the repository index body, when given, is an object like {"ready": true}');
    }
    if (body?.ready !== undefined && typeof body.ready !== 'boolean') throw invalidRequest('"ready" must be a boolean');
    return jsonAnswer(200, JSON.stringify(this.catalog.repositoryIndex(body?.ready === true)));
  }

  private modelReady({ model, version }: V2Params): HttpAnswer {
    return this.catalog.modelReady(model!, version)
      ? jsonAnswer(200, JSON.stringify({ name: model, ready: true }))
      : jsonAnswer(503, JSON.stringify({ name: model, ready: false, error: `model '${model}' is not ready` }));
  }

  /**
   * infer, explain, and MLRun's member route (the router's request pinned to one member). A body in MLRun's form
   * (rows) is decoded by the rows codec for the model's declared inputs and answered in MLRun's form; a body whose
   * `operation` names another operation than the route's is a 400. `read`: the body, when the route read it already.
   * Answered at once, without a promise, when the body was read, the model ran and the answer was written
   * synchronously (a small body, synchronous model code, a small answer); else from where it went asynchronous.
   */
  private inference(call: V2Call, op: 'infer' | 'explain', span: ServerSpan | null, read?: DecodedBody): HttpAnswer | Promise<HttpAnswer> {
    const { model, version } = call.params as Required<Pick<V2Params, 'model'>> & V2Params;
    const req = this.dataPlane.begin(op, model, version, openCallOptions(call.headers, span?.context));
    let body: DecodedBody | undefined = read;
    try {
      if (body === undefined) {
        const pending = this.read(call);
        if (pending instanceof Promise) return this.inferenceLater(call, span, req, pending);
        body = pending;
      }
      const run = this.startInference(call, req, body);
      if (run.response instanceof Promise) return this.inferenceLater(call, span, req, body, run);
      const answer = this.inferenceAnswerOf(call, body, run, run.response);
      if (answer instanceof Promise) return this.inferenceLater(call, span, req, body, run, answer);
      return tracedAnswer(span, answer);
    } catch (err) {
      return tracedAnswer(span, this.fail(call, err, req, body?.value));
    }
  }

  /** {@link inference} from where it went asynchronous: the body being read, the model running, or the answer being written. */
  private async inferenceLater(
    call: V2Call,
    span: ServerSpan | null,
    req: DataPlaneRequest,
    pending: DecodedBody | Promise<DecodedBody>,
    run?: InferenceRun,
    answer?: Promise<HttpAnswer>,
  ): Promise<HttpAnswer> {
    let body: DecodedBody | undefined;
    try {
      body = await pending;
      run ??= this.startInference(call, req, body);
      return tracedAnswer(span, await (answer ?? this.inferenceAnswerOf(call, body, run, await run.response)));
    } catch (err) {
      return tracedAnswer(span, this.fail(call, err, req, body?.value));
    }
  }

  /** The run of an infer or explain request from its body: the v2 request it is (rows decoded), started in the data plane. */
  private startInference(call: V2Call, req: DataPlaneRequest, body: DecodedBody): InferenceRun {
    const { model, version, member } = call.params as Required<Pick<V2Params, 'model'>> & V2Params;
    holdBodyBytes(this.dataPlane.byteBudget, body.bytes, call.res);
    const part = this.requestPart(model, body.value);
    checkBodyOperation(part, req.op);
    const mlrun = isMlrunBody(part);
    let wire = mlrun ? this.mlrunWire(model, version, member, part) : this.inferenceRequest(model, body.value);
    completeCallOptions(req.call, call.headers, call.res, this.requestText(model, body));
    if (mlrun) {
      req.call.form = 'mlrun';
      req.call.body = part;
    }
    let pinned: RouterMember | undefined;
    if (member !== undefined) ({ wire, member: pinned } = this.dataPlane.pinToMember(model, version, wire, member));
    return { wire, mlrun, pinned, response: req.run(wire, rawBody(body.value)) };
  }

  /** The answer to a run's response: in MLRun's form for an MLRun body, else the v2 response (JSON or binary). */
  private inferenceAnswerOf(call: V2Call, body: DecodedBody, run: InferenceRun, response: InferenceResponse): HttpAnswer | Promise<HttpAnswer> {
    const model = call.params.model!;
    const { pinned } = run;
    if (run.mlrun) return this.jsonAt(model, body.value, mlrunResponseJson(response, plainResultOf(response), pinned?.model, pinned?.version));
    return this.inferenceAnswer(model, body.value, run.wire, pinned === undefined ? response : asMember(response, pinned));
  }

  /**
   * Triton's generate extension: input fields in, output fields out (generate.codec.ts). `/generate` answers one
   * JSON object (a streaming model's parts assembled); `/generate_stream` answers server-sent events, one `data:`
   * event per part, once the model started (a refusal before that is a plain error answer), and a failure after
   * that as an `error` event.
   */
  private async generate(call: V2Call, stream: boolean, span: ServerSpan | null): Promise<HttpAnswer> {
    const { model, version } = call.params as Required<Pick<V2Params, 'model'>> & V2Params;
    const req = this.dataPlane.begin('infer', model, version, openCallOptions(call.headers, span?.context));
    let body: DecodedBody | undefined;
    try {
      body = await this.read(call);
      holdBodyBytes(this.dataPlane.byteBudget, body.bytes, call.res);
      if (body.value instanceof BinaryBody) throw invalidRequest('the generate routes take a JSON body, not binary tensor framing');
      const wire = generateRequest(body.value, this.catalog.modelMetadata(model, version).inputs);
      checkRequestLimits(wire, this.dataPlane.limits);
      completeCallOptions(req.call, call.headers, call.res, undefined);
      if (!stream) return tracedAnswer(span, jsonAnswer(200, new GenerateJsonWriter().write(await req.run(wire, body.value))));
      const parts = await req.stream(wire, body.value);
      return tracedAnswer(span, sseAnswer(parts, this.settings.debug, this.logger, call));
    } catch (err) {
      return tracedAnswer(span, this.fail(call, err, req, body?.value));
    }
  }

  /** An MLRun request's rows as the model's v2 request, within the request limits. */
  private mlrunWire(model: string, version: string | undefined, member: string | undefined, body: Parameters<typeof mlrunRequest>[0]): WireInferenceRequest {
    const wire = mlrunRequest(body, contentTarget(model, this.declaredInputs(model, version, member), this.dataPlane.limits.maxTensorBytes));
    checkRequestLimits(wire, this.dataPlane.limits);
    return wire;
  }

  /**
   * The inputs rows are decoded for: the model's declared inputs; for a router that declares none, those of the
   * member called (or of its first member that declares some), as the members are what reads them.
   */
  private declaredInputs(model: string, version: string | undefined, member: string | undefined): TensorSpec[] {
    const inputs = this.catalog.modelMetadata(model, version).inputs;
    if (inputs.length > 0) return inputs;
    const members = this.dataPlane.routerMembers(model, version);
    const candidates = member === undefined ? members : members.filter((m) => m.name === member);
    for (const m of candidates) {
      const declared = this.declaredInputs(m.model, m.version, undefined);
      if (declared.length > 0) return declared;
    }
    return inputs;
  }

  /**
   * MLRun's bare model route (`POST /v2/models/:model[/versions/:version]`): the body's `operation` picks what runs
   * (`infer` when it names none; `predict` is `infer`), as MLRun's event body does.
   */
  private async modelPost(call: V2Call, span: ServerSpan | null): Promise<HttpAnswer> {
    let body: DecodedBody;
    let op: string;
    try {
      body = await this.read(call);
      op = bodyOperation(this.requestPart(call.params.model!, body.value)) ?? 'infer';
    } catch (err) {
      return this.refusedAs(call, 'infer', span, err);
    }
    if (op === 'infer' || op === 'explain') return this.inference(call, op, span, body);
    return this.operation({ ...call, params: { ...call.params, op } }, span, body);
  }

  /**
   * Any operation of one member through its router (`/v2/models/:router/:member/:op`), as MLRun's router passes the
   * event to the member: infer runs through the router pinned to the member; explain, readiness and custom
   * operations go to the member's model (version) itself.
   */
  private async memberOperation(call: V2Call, span: ServerSpan | null): Promise<HttpAnswer> {
    const { model, version, member, op } = call.params as Required<Pick<V2Params, 'model' | 'member' | 'op'>> & V2Params;
    if (call.method === 'POST' && (op === 'infer' || op === 'predict')) return this.inference(call, 'infer', span);
    let target: RouterMember;
    try {
      target = this.dataPlane.memberOf(model, version, member);
    } catch (err) {
      return tracedAnswer(span, this.fail(call, err, undefined, undefined));
    }
    const params: V2Params = { model: target.model, version: target.version, op };
    const routed = { ...call, params };
    if (call.method === 'GET' && op === 'ready') return tracedAnswer(span, await this.guarded(routed, () => this.modelReady(params)));
    if (call.method === 'POST' && op === 'explain') return this.inference(routed, 'explain', span);
    return this.operation(routed, span);
  }

  private async operation(call: V2Call, span: ServerSpan | null, read?: DecodedBody): Promise<HttpAnswer> {
    const { model, version, op } = call.params as Required<Pick<V2Params, 'model' | 'op'>> & V2Params;
    if (call.method === 'GET' && read === undefined) {
      const member = this.routerMemberMetadata(model, version, op);
      if (member !== undefined) return tracedAnswer(span, member);
    }
    const req = this.dataPlane.begin(op, model, version, openCallOptions(call.headers, span?.context));
    let body: DecodedBody | undefined = read;
    try {
      if (body === undefined) body = await this.read(call);
      holdBodyBytes(this.dataPlane.byteBudget, body.bytes, call.res);
      const part = this.requestPart(model, body.value);
      checkBodyOperation(part, op);
      let input: OperationInput;
      if (looksLikeInferenceRequest(part) && !isMlrunBody(part)) {
        input = { wire: this.inferenceRequest(model, body.value) };
      } else {
        if (part instanceof BinaryBody) throw invalidRequest('a binary-framed body must be a v2 inference request');
        input = {};
      }
      // What MLRun's op_<name>(event) gets: the method, the path, every header and the whole body.
      input.body = part instanceof BinaryBody ? part.header : part;
      input.http = { method: call.method, path: call.url, headers: call.headers };
      completeCallOptions(req.call, call.headers, call.res, input.wire === undefined ? undefined : this.requestText(model, body));
      const output = await req.operation(input, rawBody(body.value));
      if (output.kind === 'inference') {
        const answer = this.inferenceAnswer(model, body.value, input.wire!, output.response);
        return tracedAnswer(span, answer instanceof Promise ? await answer : answer);
      }
      return tracedAnswer(span, this.jsonAt(model, body.value, stringifyJson(output.value)));
    } catch (err) {
      return tracedAnswer(span, this.fail(call, err, req, body?.value));
    }
  }

  /**
   * `GET /v2/models/:router/:member` (MLRun's member metadata through its router), when `model` is a router with a
   * member named `name` and no operation of that name; undefined otherwise.
   */
  private routerMemberMetadata(model: string, version: string | undefined, name: string): HttpAnswer | undefined {
    let target: RouterMember;
    try {
      if (this.dataPlane.hasOperation(model, version, name)) return undefined;
      target = this.dataPlane.memberOf(model, version, name);
    } catch {
      return undefined;
    }
    try {
      return jsonAnswer(200, JSON.stringify(this.catalog.modelMetadata(target.model, target.version)));
    } catch (err) {
      return errorAnswer(err, this.settings.debug);
    }
  }

  /** The body, decoded (synchronously unless compressed or large). */
  private read(call: V2Call): DecodedBody | Promise<DecodedBody> {
    const model = call.params.model;
    const inputPath = model === undefined ? undefined : this.settings.bodyPaths.get(model)?.inputPath;
    const body = decodeV2Body(call.headers, call.body, this.settings.maxBodyBytes, inputPath, this.jsonValues);
    return body instanceof Promise ? body.catch((err: unknown) => Promise.reject(this.limitOf(err))) : body;
  }

  /**
   * A large body refused for the memory its JSON values would take, as the refusal of its inputs or requested
   * outputs when it had more of those than the limits allow (the budget grows with `maxInputs` and `maxOutputs`:
   * those are the settings to raise); any other error as it is.
   */
  private limitOf(err: unknown): unknown {
    if (!(err instanceof JsonValuesTooLarge)) return err;
    const limits = this.dataPlane.limits;
    if (err.inputs > limits.maxInputs) return limitExceeded(`more than ${limits.maxInputs} inputs`, limits.maxInputs, 'maxInputs');
    if (err.outputs > limits.maxOutputs) return limitExceeded(`more than ${limits.maxOutputs} requested outputs`, limits.maxOutputs, 'maxOutputs');
    return err;
  }

  /** The body's JSON text, when it is the v2 request itself (monitoring logs it as sent). */
  private requestText(model: string, body: DecodedBody): string | undefined {
    return body.text !== undefined && this.settings.bodyPaths.get(model)?.inputPath === undefined ? body.text : undefined;
  }

  /** The v2 request inside a body: at the model's input path, checked, within the limits, binary tail attached. */
  private inferenceRequest(model: string, body: unknown): WireInferenceRequest {
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

  /** The response as JSON (written in slices when large), or JSON and binary outputs (binary extension); synchronous when small. */
  private inferenceAnswer(model: string, body: unknown, wire: WireInferenceRequest, response: InferenceResponse): HttpAnswer | Promise<HttpAnswer> {
    if (wantsBinaryResponse(wire)) return binaryAnswer(response, wire);
    if (this.settings.bodyPaths.get(model)?.resultPath === undefined && isLargeResponse(response)) return largeJsonAnswer(response);
    return this.jsonAt(model, body, serializeInferenceResponse(response));
  }

  /** JSON text, written into the original body at the model's result path when it has one. */
  private jsonAt(model: string, body: unknown, text: string): HttpAnswer {
    const resultPath = this.settings.bodyPaths.get(model)?.resultPath;
    if (resultPath === undefined) return jsonAnswer(200, text);
    // Write a marker at the path, serialize the body, then put the response text in the marker's place.
    const marker = `\u0000result:${process.hrtime.bigint()}\u0000`;
    const whole = stringifyBodyJson(writeBodyPath(body instanceof BinaryBody ? body.header : body, resultPath, marker));
    return jsonAnswer(200, whole.replace(JSON.stringify(marker), () => text));
  }

  /**
   * The answer to a failure: logged once; a model request refused before it ran gets its monitoring event, with
   * the body as read, or its bytes when it could not be read.
   */
  private fail(call: V2Call, err: unknown, req: DataPlaneRequest | undefined, body: unknown): HttpAnswer {
    req?.refuse(err, body === undefined ? unreadBody(call.headers, call.body) : rawBody(body));
    const answer = errorAnswer(err, this.settings.debug);
    logHttpFault(this.logger, call.method, call.url, err);
    return answer;
  }
}

/** Server-sent events of a stream's parts (generate fields); a failure mid-stream is an `error` event, then the end. */
function sseAnswer(parts: ResponseStream, debug: boolean, logger: Logger, call: V2Call): HttpAnswer {
  return {
    status: 200,
    headers: { ...SSE_HEADERS },
    body: new StreamedBody(async (res) => {
      const sse = new SseWriter(res);
      const json = new GenerateJsonWriter();
      try {
        for await (const part of parts) {
          const sent = sse.send(json.write(part));
          if (sent !== undefined) await sent;
        }
      } catch (err) {
        logHttpFault(logger, call.method, call.url, err);
        await sse.send(errorBody(toHttpError(err, debug).message), 'error');
      } finally {
        sse.end();
      }
    }),
  };
}

async function binaryAnswer(response: InferenceResponse, wire: WireInferenceRequest): Promise<HttpAnswer> {
  const binary = await serializeBinaryResponse(response, wire);
  return { status: 200, headers: { 'content-type': BINARY_TYPE, [INFERENCE_HEADER]: String(binary.headerLength) }, body: binary.body };
}

/** A large JSON answer, written in slices into parts sent one after another. */
async function largeJsonAnswer(response: InferenceResponse): Promise<HttpAnswer> {
  return { status: 200, headers: { 'content-type': JSON_TYPE }, body: await serializeInferenceResponseChunks(response) };
}

/** An infer or explain request started from its body: what its answer is written from. */
interface InferenceRun {
  readonly wire: WireInferenceRequest;
  /** The body was in MLRun's form (rows), and is answered in it. */
  readonly mlrun: boolean;
  /** The router member the request was pinned to (MLRun's member route). */
  readonly pinned: RouterMember | undefined;
  readonly response: InferenceResponse | Promise<InferenceResponse>;
}

/** A router's response as its member's: the member's model name and version (MLRun's member route answers so). */
function asMember(response: InferenceResponse, member: RouterMember): InferenceResponse {
  const answer: InferenceResponse = { ...response, model_name: member.model };
  if (member.version === undefined) delete answer.model_version;
  else answer.model_version = member.version;
  return answer;
}

/** The operation a body names with MLRun's `operation` key (`predict` is `infer`), if any; a 400 when it is not a name. */
function bodyOperation(part: unknown): string | undefined {
  if (typeof part !== 'object' || part === null || Array.isArray(part) || part instanceof BinaryBody) return undefined;
  const op = (part as { operation?: unknown }).operation;
  if (op === undefined || op === null) return undefined;
  if (typeof op !== 'string' || op === '') throw invalidRequest('"operation" must be the name of an operation (infer, explain or a custom one)');
  return op === 'predict' ? 'infer' : op;
}

/** A 400 when the body's `operation` names another operation than the route's (never a silent choice of one). */
function checkBodyOperation(part: unknown, op: string): void {
  const named = bodyOperation(part);
  const routed = op === 'predict' ? 'infer' : op;
  if (named !== undefined && named !== routed) {
    throw invalidRequest(`the body's "operation" is '${clip(named)}' but the path calls '${clip(routed)}'; send it to /v2/models/<model> or drop one of them`);
  }
}

/** The body as monitoring shows a refused request: its JSON (a binary-framed body's JSON header). */
function rawBody(body: unknown): unknown {
  return body instanceof BinaryBody ? body.header : body;
}

/** A route table path, with the literal last segment (`/infer`) that tells it from its handler's other paths, if any. */
interface RoutePathRow {
  readonly path: string;
  readonly suffix: string | null;
}

/** The route table's paths of each handler: [unversioned, versioned], built once (the `http.route` of server spans). */
const ROUTE_PATHS: ReadonlyMap<V2Handler, readonly [RoutePathRow[], RoutePathRow[]]> = V2_ROUTES.reduce((paths, r) => {
  const rows = paths.get(r.handler) ?? [[], []];
  const last = r.path.split('/').pop()!;
  rows[r.path.includes('/versions/') ? 1 : 0].push({ path: r.path, suffix: r.path.endsWith('}') || last.startsWith(':') ? null : `/${last}` });
  paths.set(r.handler, rows);
  return paths;
}, new Map<V2Handler, [RoutePathRow[], RoutePathRow[]]>());

/** The route path a model request matched: of its handler's rows, the one whose last segment the URL ends with. */
function routePath(handler: V2Handler, call: V2Call): string {
  const rows = ROUTE_PATHS.get(handler)?.[call.params.version === undefined ? 0 : 1];
  if (rows === undefined || rows.length === 0) return call.url;
  if (rows.length === 1) return rows[0].path;
  const query = call.url.indexOf('?');
  const path = query < 0 ? call.url : call.url.slice(0, query);
  for (const row of rows) if (row.suffix !== null && path.endsWith(row.suffix)) return row.path;
  return rows[0].path;
}

/** The operation a model route runs, for its monitoring event. */
function opOf(handler: V2Handler, params: V2Params): string | undefined {
  switch (handler) {
    case 'infer':
    case 'memberInfer':
    case 'generate':
    case 'generateStream':
      return 'infer';
    case 'explain':
      return 'explain';
    case 'modelPost':
      return 'infer';
    case 'operation':
    case 'memberOperation':
      return params.op;
    default:
      return undefined;
  }
}
