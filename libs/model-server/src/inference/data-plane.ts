import { performance } from 'node:perf_hooks';
import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import { ErrorCode } from '../errors/error-code.enum';
import {
  errorDetail,
  asInternalError,
  callsTooDeep,
  explainNotImplemented,
  modelNotReady,
  notARouter,
  operationNotFound,
  streamingNotImplemented,
  streamingNotInWorkers,
  tooManyInFlight,
} from '../errors';
import { isModelServerError, type ModelServerError } from '../errors/model-server.error';
import type { InferenceRequest, InferenceResponse, InferenceResult } from '../model/inference.interface';
import { assembleResults } from '../model/stream-results';
import type { PredictExecutor } from '../execution/predict-executor.interface';
import type { ModelHooks } from '../model/model-hooks';
import { ModelState } from '../model/model-state.enum';
import type { ModelCallOptions, ModelCaller, ModelCallRequest } from '../model/model-caller.interface';
import { RequestContext, type NestedCall } from '../model/request-context';
import type { InferenceEventStream } from './inference-event-stream';
import type { LoadedModel } from '../repository/loaded-model';
import type { ModelRepository } from '../repository/model-repository';
import { inModelScope } from '../repository/model-scope';
import type { ModelVersion } from '../repository/model-version';
import { isModelRouter } from '../routing/model-router.base';
import { ROUTER_MEMBER_PARAMETER } from '../routing/router.constants';
import type { RouterMember } from '../routing/router-member.interface';
import type { CallOptions, OperationInput, OperationOutput } from './call-options.interface';
import { decodeDeferredData, hasDeferredData } from '../codecs/deferred-data.decoder';
import { alignLargeRawData } from '../codecs/raw-data.decoder';
import { TensorBudget } from '../codecs/tensor-budget';
import { DeadlineTimer, earliestDeadline } from './deadline-timer';
import { RequestByteBudget } from './request-byte-budget';
import { decodeRequest } from './request-decoder';
import { newRequestId } from './request-id.util';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from './request-limits';
import { DataPlaneRequest, type ReadyVersion, type RequestEdges, type RequestRunner } from './data-plane-request';
import { classify, RequestFrame } from './request-frame';
import { finishTrace, startTrace } from './request-trace';
import { encodeResponse, isInferenceResult } from './response-encoder';
import { ResponseStream, type StreamEnd } from './response-stream';
import { RequestTracer } from '../tracing/request-tracer';
import { DEFAULT_STREAM_BUFFER_CHUNKS } from '../options/model-server-options.interface';

/** How deep models may call models in-process before the call is refused as a likely cycle. */
const MAX_CALL_DEPTH = 8;

/**
 * One request's journey, shared by every transport: lookup, readiness, admission, decode, the hook chain,
 * encode, ids, deadlines, stage timings and the request's one monitoring event. It never sees HTTP or gRPC.
 *
 * @publicApi
 */
export class DataPlane {
  /**
   * In-process calls from model code outside a request (`context.infer`, e.g. warming up in `load`), bound once.
   * A target that is still loading is waited for, so models may depend on each other at load.
   */
  readonly caller: ModelCaller = {
    infer: async (name, request, options) => {
      const target = this.repository.get(name, options?.version);
      if (target.state === ModelState.Loading) await target.load();
      return this.run('infer', name, options?.version, request as WireInferenceRequest, INTERNAL_CALL, 1, undefined, null, undefined);
    },
  };

  /** Nested calls from inside a request (`ctx.infer`): the parent's deadline, signal and depth carry on. */
  private readonly nestedCall: NestedCall = (name: string, request: ModelCallRequest, options: ModelCallOptions | undefined, parent: RequestContext) => {
    const call: CallOptions = { protocol: 'internal', deadline: parent.deadline, headers: parent.headers, traceContext: this.tracer.current() };
    return Promise.resolve(this.run('infer', name, options?.version, request as WireInferenceRequest, call, parent.depth + 1, parent, null, undefined));
  };

  private readonly runner: RequestRunner = {
    run: (req, wire, raw) =>
      req.op === 'infer' || req.op === 'explain'
        ? this.run(req.op, req.name, req.version, wire, req.call, 0, undefined, req, raw)
        : Promise.reject(new Error(`a request for operation '${req.op}' runs with operation(), not run()`)),
    operation: (req, input, raw) => this.runOperation(req, input, raw),
    invoke: (req, edges) => this.invokeWith(req, edges),
    refuse: (req, err, raw) => this.recordRefusal(req, err, raw),
    stream: (req, wire, raw) => this.openStream(req, wire, raw),
  };

  /** Requests in the data plane now, all models together. */
  private inFlight = 0;

  /** The spans of requests (every call is a no-op unless an OpenTelemetry SDK was registered before the server was made). @internal */
  readonly tracer = new RequestTracer();

  /** Request body bytes held by requests being decoded and served, server-wide; transports take and give back. */
  readonly byteBudget: RequestByteBudget;

  constructor(
    private readonly repository: ModelRepository,
    private readonly events: InferenceEventStream,
    /** The server's limits; transports check a request against them before decoding its tensors. */
    readonly limits: DataPlaneLimits = NO_LIMITS,
  ) {
    repository.setCaller(this.caller);
    this.byteBudget = new RequestByteBudget(limits.maxRequestBytesInFlight);
  }

  /** True once shutdown has begun: new requests are refused (transports may hand them to their slow path). */
  get draining(): boolean {
    return this.repository.isShuttingDown;
  }

  /** Requests being served now (all models). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Opens a request before the transport reads its body: the handle runs it, or takes the reason the transport
   * refused it, and the request gets its one monitoring event either way. @internal
   */
  begin(op: string, name: string, version: string | undefined, call: CallOptions): DataPlaneRequest {
    return new DataPlaneRequest(this.runner, op, name, version, call);
  }

  /** Runs `preprocess → validate → predict → postprocess` and returns the checked response. */
  infer(name: string, version: string | undefined, wire: WireInferenceRequest, call: CallOptions): Promise<InferenceResponse> {
    return Promise.resolve(this.begin('infer', name, version, call).run(wire));
  }

  /** Runs the same chain with `explain` in place of `predict`. */
  explain(name: string, version: string | undefined, wire: WireInferenceRequest, call: CallOptions): Promise<InferenceResponse> {
    return Promise.resolve(this.begin('explain', name, version, call).run(wire));
  }

  /**
   * Runs a custom operation the model declared with `@Operation`. Its body is decoded when it is a v2 request;
   * otherwise the model gets it as `request.body`.
   */
  operation(name: string, version: string | undefined, op: string, input: OperationInput, call: CallOptions): Promise<OperationOutput> {
    return this.begin(op, name, version, call).operation(input);
  }

  /**
   * The version a request addresses with the generation serving it, if it is ready; else a 404 or 503 (with
   * `Retry-After` while it loads or unloads). Once shutdown has begun only nested calls are taken. @internal
   */
  readyVersion(name: string, version: string | undefined, depth = 0): ReadyVersion {
    const mv = this.lookup(name, version, depth);
    return readyOf(mv, mv.serving());
  }

  /**
   * The request for MLRun's router URL form (`/v2/models/:router[/versions/:v]/:member/infer`): the same request,
   * pinned to `member` by the `router_member` parameter, so it still runs through the router. A model that is not a
   * router, or a member the router does not have, is a 404; a router that is not ready a 503. @internal
   */
  pinToMember(name: string, version: string | undefined, wire: WireInferenceRequest, member: string): { wire: WireInferenceRequest; member: RouterMember } {
    const found = this.memberOf(name, version, member);
    return { wire: { ...wire, parameters: { ...wire.parameters, [ROUTER_MEMBER_PARAMETER]: member } }, member: found };
  }

  /**
   * The member `member` of the router `name` (the model and version it calls): a 404 when the model is not a router
   * or has no such member, a 503 when the router is not ready. @internal
   */
  memberOf(name: string, version: string | undefined, member: string): RouterMember {
    const router = this.lookup(name, version, 0).serving().instance;
    if (!isModelRouter(router)) throw notARouter(name, member);
    return router.member(member);
  }

  /** The members of the router `name` (in order), or none when it is not a router or not ready. @internal */
  routerMembers(name: string, version: string | undefined): readonly RouterMember[] {
    try {
      const router = this.lookup(name, version, 0).serving().instance;
      return isModelRouter(router) ? router.members : [];
    } catch {
      return [];
    }
  }

  /** True when the model version (known, in any state) declares the custom operation `op`. @internal */
  hasOperation(name: string, version: string | undefined, op: string): boolean {
    return this.repository.get(name, version).operations.has(op);
  }

  /**
   * Runs a health check of a ready version's model code (SageMaker's `ping` hook) inside the model's scope. The
   * generation is held until the check settles or `timeoutMs` passes, so an unload waits for it as for a request;
   * it is not a request (no admission limit, no monitoring event). Resolves `timedOut()` when the time is up.
   * @internal
   */
  async check<T>(ready: ReadyVersion, run: (ready: ReadyVersion) => T | Promise<T>, timeoutMs: number, timedOut: () => T): Promise<T> {
    const serving = ready.version.hold();
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<T>((resolve) => {
        timer = setTimeout(() => resolve(timedOut()), timeoutMs);
      });
      return await Promise.race([(async () => inModelScope(ready.version, run, ready))(), late]);
    } finally {
      clearTimeout(timer);
      serving.leave();
    }
  }

  /** The version addressed, if ready; once shutdown has begun, only for nested calls. */
  private lookup(name: string, version: string | undefined, depth: number): ModelVersion {
    const mv = this.repository.get(name, version);
    if (mv.state !== ModelState.Ready) throw mv.notReady();
    if (depth === 0 && this.repository.isShuttingDown) throw modelNotReady(mv.label, 'shutting down', undefined, 1);
    return mv;
  }

  /**
   * Admits a request into the version (which counts it, so an unload waits for it) and opens its frame: the
   * generation it runs on for its whole journey, its context, deadline and trace. 503 with Retry-After when the
   * server or the model is at its limit.
   */
  private open(op: string, mv: ModelVersion, id: string, call: CallOptions, raw: unknown, depth: number, parent: RequestContext | undefined): RequestFrame {
    const max = this.limits.maxInFlight;
    if (max > 0 && this.inFlight >= max) throw tooManyInFlight('the server', max, 'maxInFlight / MAX_IN_FLIGHT');
    const serving = mv.tryAdmit();
    this.inFlight++;
    const ctx = this.context(id, op, mv, call, depth, parent);
    const timer = ctx.deadline === undefined ? null : new DeadlineTimer(ctx.deadline, ctx);
    const trace = this.events.active ? startTrace(mv, ctx, call, raw) : null;
    const spans = this.tracer.on ? this.tracer.requestSpans({ op, model: mv.name, version: mv.version, id }, depth === 0 ? call.traceContext : undefined, call.traceContext) : null;
    if (trace !== null) trace.spans = spans;
    return new RequestFrame(mv, serving, call, ctx, timer, trace, spans);
  }

  /** Runs `body` in the frame: every failure gets its catalogue code; the frame is closed and its event emitted. */
  private async framed<T>(f: RequestFrame, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      const coded = this.failed(f, err);
      throw coded;
    } finally {
      this.close(f);
    }
  }

  /** A failure of the admitted request `f`, with its catalogue code, noted on its record and its span. */
  private failed(f: RequestFrame, err: unknown): ModelServerError {
    const coded = classify(err, f.mv, f.stage, f.ctx.id);
    if (f.trace !== null) {
      f.trace.error = coded;
      f.trace.failedStage = f.stage;
    }
    if (f.spans !== null) f.spans.fail(coded.code, errorDetail(coded));
    return coded;
  }

  /** The request left: it no longer counts, its generation is released, its deadline cleared, its event emitted. */
  private close(f: RequestFrame): void {
    this.inFlight--;
    f.mv.release(f.serving);
    if (f.timer !== null) f.timer.clear();
    if (f.trace !== null) finishTrace(this.events, f.trace);
    if (f.spans !== null) f.spans.close();
  }

  /** The request's context, with its deadline (the earliest of the client's, the model's and the server's). */
  private context(id: string, op: string, mv: ModelVersion, call: CallOptions, depth: number, parent: RequestContext | undefined): RequestContext {
    const deadline =
      mv.timeoutMs === 0 && this.limits.requestTimeoutMs === 0
        ? call.deadline
        : earliestDeadline(call.deadline, mv.timeoutMs, this.limits.requestTimeoutMs, Date.now());
    return new RequestContext(id, op, deadline, call.headers, depth, this.nestedCall, call.cancellation, parent);
  }

  /** Infer or explain; `req` is the transport's handle, whose refusal (not ready, overloaded) is recorded with `raw`. */
  private run(
    op: InferOp,
    name: string,
    version: string | undefined,
    wire: WireInferenceRequest,
    call: CallOptions,
    depth: number,
    parent: RequestContext | undefined,
    req: DataPlaneRequest | null,
    raw: unknown,
  ): InferenceResponse | Promise<InferenceResponse> {
    if (depth > MAX_CALL_DEPTH) return Promise.reject(callsTooDeep(MAX_CALL_DEPTH, name));
    let f: RequestFrame;
    try {
      const mv = this.lookup(name, version, depth);
      if (op === 'explain' && mv.hooks?.explain === null) throw explainNotImplemented(mv.label);
      f = this.open(op, mv, wire.id ?? newRequestId(), call, wire, depth, parent);
    } catch (err) {
      if (req !== null) this.recordRefusal(req, err, raw);
      return Promise.reject(err);
    }
    return this.chain(f, wire, true);
  }

  /**
   * decode → preprocess → validate → predict (or explain) → postprocess → encode. With `own`, the chain is the
   * whole of the frame's work (what {@link framed} does is done here, one async function fewer per request):
   * every failure gets its catalogue code and the frame is closed when it settles. A stage whose work is already
   * done (synchronous model code, no deferred data) is not awaited, and a request whose stages all are is answered
   * at once, without a promise: with tracing on, every promise a request makes also runs the context manager's
   * hooks. Never throws: a failure is a rejected promise.
   */
  private chain(f: RequestFrame, wire: WireInferenceRequest, own: boolean): InferenceResponse | Promise<InferenceResponse> {
    try {
      const request = this.prepare(f, wire);
      if (isPromiseLike(request)) return this.chainLater(f, own, 'prepare', request, undefined);
      const predicted = this.predicted(f, request);
      if (isPromiseLike(predicted)) return this.chainLater(f, own, 'predict', predicted, request);
      f.lap();
      let result = predicted;
      if (f.serving.hooks.postprocess !== null) {
        const post = this.postprocessed(f, result);
        if (isPromiseLike(post)) return this.chainLater(f, own, 'postprocess', post, request);
        result = post;
        f.lap();
      }
      const response = this.encoded(f, request, result);
      if (own) this.close(f);
      return response;
    } catch (err) {
      const failure = own ? this.failed(f, err) : err;
      if (own) this.close(f);
      return Promise.reject(failure);
    }
  }

  /** The rest of {@link chain} once a stage's work is pending (`at`): awaited, then the stages after it. */
  private async chainLater(
    f: RequestFrame,
    own: boolean,
    at: 'prepare' | 'predict' | 'postprocess',
    pending: PromiseLike<InferenceRequest | InferenceResult>,
    prepared: InferenceRequest | undefined,
  ): Promise<InferenceResponse> {
    try {
      let request = prepared;
      let result: InferenceResult;
      if (at === 'prepare') {
        request = (await pending) as InferenceRequest;
        result = await this.predicted(f, request);
      } else {
        result = (await pending) as InferenceResult;
      }
      if (at !== 'postprocess') {
        f.lap();
        if (f.serving.hooks.postprocess === null) return this.encoded(f, request!, result);
        result = await this.postprocessed(f, result);
      }
      f.lap();
      return this.encoded(f, request!, result);
    } catch (err) {
      throw own ? this.failed(f, err) : err;
    } finally {
      if (own) this.close(f);
    }
  }

  /** The model's predict (or explain) on `request`, started in its stage. */
  private predicted(f: RequestFrame, request: InferenceRequest): InferenceResult | Promise<InferenceResult> {
    const infer = f.ctx.op === 'infer';
    f.stage = infer ? 'predict' : 'explain';
    return f.wait(infer ? f.within(runPredict, f.serving.executor, request, f.ctx) : f.within(explainHook, f, f.serving.hooks, request));
  }

  /** The model's postprocess on `result`, started in its stage (call only when the model has one). */
  private postprocessed(f: RequestFrame, result: InferenceResult): InferenceResult | Promise<InferenceResult> {
    f.stage = 'postprocess';
    return f.wait(f.within(f.serving.hooks.postprocess!, result, f.ctx));
  }

  /** The response to `request` from the model's `result`, encoded in its stage and kept for monitoring. */
  private encoded(f: RequestFrame, request: InferenceRequest, result: InferenceResult): InferenceResponse {
    f.stage = 'encode';
    const infer = f.ctx.op === 'infer';
    const response = encodeResponse(result, f.mv, request, infer ? 'predict' : 'explain', f.call.form === 'mlrun');
    f.lap();
    if (f.trace !== null) f.trace.response = response;
    return response;
  }

  /** decode → preprocess → validate, in the frame: the request the model gets (at once when nothing is asynchronous). */
  private prepare(f: RequestFrame, wire: WireInferenceRequest): InferenceRequest | Promise<InferenceRequest> {
    f.stage = 'decode';
    const deferred = this.decodeDeferred(wire);
    return deferred === undefined ? this.decoded(f, wire) : deferred.then(() => this.decoded(f, wire));
  }

  /** The decoded request, through the model's preprocess and validate hooks when it has them. */
  private decoded(f: RequestFrame, wire: WireInferenceRequest): InferenceRequest | Promise<InferenceRequest> {
    const ctx = f.ctx;
    const request = decodeRequest(wire, ctx.id, f.mv, ctx.op, this.limits.maxTensorBytes);
    if (f.call.body !== undefined) request.body = f.call.body;
    f.lap();
    return this.checked(f, request);
  }

  /** preprocess → validate, for a model that has either hook (at once when both are synchronous). */
  private checked(f: RequestFrame, decoded: InferenceRequest): InferenceRequest | Promise<InferenceRequest> {
    const preprocess = f.serving.hooks.preprocess;
    if (preprocess === null) return this.validated(f, decoded);
    f.stage = 'preprocess';
    const request = f.wait(f.within(preprocess, decoded, f.ctx));
    if (isPromiseLike(request)) {
      return Promise.resolve(request).then((settled) => {
        f.lap();
        return this.validated(f, settled);
      });
    }
    f.lap();
    return this.validated(f, request);
  }

  /** validate, when the model has it: the request the model gets, kept for monitoring. */
  private validated(f: RequestFrame, request: InferenceRequest): InferenceRequest | Promise<InferenceRequest> {
    const validate = f.serving.hooks.validate;
    if (validate !== null) {
      f.stage = 'validate';
      const checked = f.wait(f.within(validate, request, f.ctx));
      if (isPromiseLike(checked)) {
        return Promise.resolve(checked).then(() => {
          f.lap();
          return this.kept(f, request);
        });
      }
      f.lap();
    }
    return this.kept(f, request);
  }

  /** The request as the model gets it, kept for the request's monitoring event. */
  private kept(f: RequestFrame, request: InferenceRequest): InferenceRequest {
    if (f.trace !== null) f.trace.request = request;
    return request;
  }

  /**
   * A streaming request (the model's `predictStream`): admitted like any other (it counts in the in-flight limits
   * until the stream ends), then decode → preprocess → validate; resolves with the stream of partial responses
   * once the model started. A model without `predictStream` is a 404 naming what it answers.
   */
  private openStream(req: DataPlaneRequest, wire: WireInferenceRequest, raw: unknown): Promise<ResponseStream> {
    let f: RequestFrame;
    try {
      const mv = this.lookup(req.name, req.version, 0);
      if (mv.hooks !== null && mv.hooks.predictStream === null) throw streamingNotImplemented(mv.label);
      f = this.open('infer', mv, wire.id ?? newRequestId(), req.call, wire, 0, undefined);
    } catch (err) {
      this.recordRefusal(req, err, raw);
      return Promise.reject(err);
    }
    return this.startStream(f, wire);
  }

  private async startStream(f: RequestFrame, wire: WireInferenceRequest): Promise<ResponseStream> {
    const started = f.trace === null ? performance.now() : f.trace.start;
    let source: AsyncIterable<InferenceResult>;
    let request: InferenceRequest;
    try {
      request = await this.prepare(f, wire);
      const { hooks, executor } = f.serving;
      if (hooks.predictStream === null) throw streamingNotImplemented(f.mv.label);
      if (executor.stream === undefined && !f.serving.loadedHere) throw streamingNotInWorkers(f.mv.label);
      f.stage = 'predict';
      source = executor.stream !== undefined ? executor.stream(request, f.ctx) : hooks.predictStream(request, f.ctx);
    } catch (err) {
      const coded = this.failed(f, err);
      this.close(f);
      throw coded;
    }
    return new ResponseStream(f, source, request, this.limits.streamBufferChunks ?? DEFAULT_STREAM_BUFFER_CHUNKS, this.endStream, started, this.events.payloads);
  }

  /** A stream ended: its record gets the partial results assembled and the stream's facts; the request closes. */
  private readonly endStream: StreamEnd = (f, stream, error) => {
    const trace = f.trace;
    if (trace !== null) {
      trace.error = error;
      if (error !== undefined) trace.failedStage = 'predict';
      trace.stream = stream.facts;
      trace.stages.predict = performance.now() - trace.start;
      const results = stream.results;
      if (results !== null && results.length > 0) trace.assemble = () => assembledResponse(f, stream, results);
    }
    if (error !== undefined && f.spans !== null) f.spans.fail(error.code, errorDetail(error));
    this.close(f);
  };

  private runOperation(req: DataPlaneRequest, input: OperationInput, raw: unknown): Promise<OperationOutput> {
    let f: RequestFrame;
    let method: string | symbol | undefined;
    try {
      const mv = this.lookup(req.name, req.version, 0);
      method = mv.operations.get(req.op);
      if (method === undefined) throw operationNotFound(req.name, req.op);
      f = this.open(req.op, mv, input.wire?.id ?? newRequestId(), req.call, input.wire ?? input.body, 0, undefined);
    } catch (err) {
      this.recordRefusal(req, err, raw);
      return Promise.reject(err);
    }
    const declared = method;
    return this.framed(f, () => this.operationChain(f, declared, input));
  }

  private async operationChain(f: RequestFrame, method: string | symbol, input: OperationInput): Promise<OperationOutput> {
    const { ctx, trace } = f;
    const op = ctx.op;
    if (input.wire !== undefined) await this.decodeDeferred(input.wire);
    const request: InferenceRequest =
      input.wire !== undefined ? decodeRequest(input.wire, ctx.id, f.mv, op, this.limits.maxTensorBytes) : { id: ctx.id, inputs: [] };
    if (input.body !== undefined) request.body = input.body;
    if (input.http !== undefined) request.http = input.http;
    f.lap();
    if (trace !== null) trace.request = request;
    f.stage = 'operation';
    const value: unknown = await f.wait(f.within(inModelScope, f.mv, callOperation, f.serving.instance, method, request, ctx));
    f.lap();
    let output: OperationOutput;
    if (isInferenceResult(value)) {
      f.stage = 'encode';
      output = { kind: 'inference', response: encodeResponse(value, f.mv, request, op) };
      f.lap();
    } else {
      output = { kind: 'value', value: value === undefined ? {} : value };
    }
    if (trace !== null) trace.response = output.kind === 'inference' ? output.response : output.value;
    return output;
  }

  /** Infer or explain (the request's op) with the transport's own reading and writing inside the request. */
  private invokeWith<T>(req: DataPlaneRequest, edges: RequestEdges<T>): Promise<T> {
    let f: RequestFrame;
    try {
      if (req.op !== 'infer' && req.op !== 'explain') throw new Error(`a request for operation '${req.op}' runs with operation(), not invoke()`);
      const mv = this.lookup(req.name, req.version, 0);
      if (req.op === 'explain' && mv.hooks?.explain === null) throw explainNotImplemented(mv.label);
      f = this.open(req.op, mv, newRequestId(), req.call, undefined, 0, undefined);
    } catch (err) {
      this.recordRefusal(req, err, undefined);
      return Promise.reject(err);
    }
    return this.framed(f, () => this.edgeChain(f, edges));
  }

  /** input → the chain → output, in the frame; the id the input names (if any) becomes the request's. */
  private async edgeChain<T>(f: RequestFrame, edges: RequestEdges<T>): Promise<T> {
    const ready = readyOf(f.mv, f.serving);
    f.stage = 'input';
    const wire = await f.wait(f.within(inModelScope, f.mv, readInput<T>, edges, ready));
    f.lap();
    if (f.trace !== null) f.trace.rawRequest = wire;
    if (typeof wire.id === 'string' && wire.id !== f.ctx.id) this.rename(f, wire.id);
    const response = await this.chain(f, wire, false);
    f.stage = 'output';
    const answer = await f.wait(f.within(inModelScope, f.mv, writeOutput<T>, edges, response, ready));
    f.lap();
    return answer;
  }

  /** Gives the request the id its body named, once read (its deadline stays). */
  private rename(f: RequestFrame, id: string): void {
    const old = f.ctx;
    f.ctx = new RequestContext(id, old.op, old.deadline, old.headers, old.depth, this.nestedCall, f.call.cancellation, undefined);
    if (f.timer !== null) f.timer.rebind(f.ctx);
    if (f.trace !== null) f.trace.ctx = f.ctx;
    if (f.spans !== null) f.spans.renamed(id);
  }

  /**
   * Decodes tensor data a transport left undecoded (a large JSON body's arrays, still bytes of the body; large
   * raw BYTES data, split into its elements), in slices and within the request's tensor budget, once the model is
   * known to be there and ready.
   */
  private decodeDeferred(wire: WireInferenceRequest): undefined | Promise<void> {
    const aligned = alignLargeRawData(wire);
    if (aligned !== undefined) return aligned.then(() => this.decodeDeferred(wire));
    if (!hasDeferredData(wire)) return undefined;
    const decoding = decodeDeferredData(wire, new TensorBudget(this.limits.maxTensorBytes));
    return decoding instanceof Promise ? decoding : undefined;
  }

  /**
   * The monitoring event of a request refused before its frame opened: by the transport (malformed body,
   * structural check, body limit) or by the data plane (not ready, overloaded). Unknown models and versions,
   * operations the model does not have, and unauthenticated callers get none (a name a client made up must not
   * become a metric series of its own); nothing happens while monitoring is off.
   */
  private recordRefusal(req: DataPlaneRequest, error: unknown, raw: unknown): void {
    if (!this.events.active) return;
    if (isModelServerError(error) && error.code === ErrorCode.Unauthenticated) return;
    let mv: ModelVersion;
    try {
      mv = this.repository.get(req.name, req.version);
    } catch {
      return;
    }
    const op = req.op;
    if (op !== 'infer' && (op === 'explain' ? mv.hooks !== null && mv.hooks.explain === null : !mv.operations.has(op))) return;
    const wireId = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
    const ctx = this.context(typeof wireId === 'string' ? wireId : newRequestId(), op, mv, req.call, 0, undefined);
    const trace = startTrace(mv, ctx, req.call, raw);
    trace.error = asInternalError(error);
    finishTrace(this.events, trace);
  }
}

type InferOp = 'infer' | 'explain';

/** A stream's parts as one response, for its monitoring record (undefined when they do not make a valid one). */
function assembledResponse(f: RequestFrame, stream: ResponseStream, results: InferenceResult[]): InferenceResponse | undefined {
  try {
    return encodeResponse(assembleResults(results), f.mv, stream.request, 'predictStream');
  } catch {
    return undefined;
  }
}

function readyOf(mv: ModelVersion, serving: LoadedModel): ReadyVersion {
  return { version: mv, instance: serving.instance, hooks: serving.hooks, executor: serving.executor, sageMaker: serving.sageMaker };
}

const INTERNAL_CALL: CallOptions = { protocol: 'internal' };

/** Server-wide limits of the data plane. @publicApi */
export interface DataPlaneLimits extends RequestLimits {
  /** Requests in flight across all models beyond which new ones get 503 + Retry-After (0: no limit). */
  maxInFlight: number;
  /** Deadline of every request in milliseconds, unless the client's or the model's is earlier (0: none). */
  requestTimeoutMs: number;
  /** Request body bytes held at once by requests being decoded and served (0: no limit). */
  maxRequestBytesInFlight: number;
  /** Partial results a stream produces ahead of its reader (default {@link DEFAULT_STREAM_BUFFER_CHUNKS}). */
  streamBufferChunks?: number;
}

const NO_LIMITS: DataPlaneLimits = { maxInFlight: 0, requestTimeoutMs: 0, ...DEFAULT_REQUEST_LIMITS, maxRequestBytesInFlight: 0 };

function explainHook(f: RequestFrame, hooks: ModelHooks, request: InferenceRequest): ReturnType<NonNullable<ModelHooks['explain']>> {
  if (hooks.explain === null) throw explainNotImplemented(f.mv.label); // checked before admission already
  return hooks.explain(request, f.ctx);
}

/** Calls the custom operation `method` of `instance` (inside the model's scope). */
function callOperation(instance: object, method: string | symbol, request: InferenceRequest, ctx: RequestContext): unknown {
  return (instance as Record<string | symbol, (request: InferenceRequest, ctx: RequestContext) => unknown>)[method].call(instance, request, ctx);
}

function readInput<T>(edges: RequestEdges<T>, ready: ReadyVersion): WireInferenceRequest | Promise<WireInferenceRequest> {
  return edges.input(ready);
}

function writeOutput<T>(edges: RequestEdges<T>, response: InferenceResponse, ready: ReadyVersion): T | Promise<T> {
  return edges.output(response, ready);
}

/** The executor's `predict` (a function, so the frame can call it with the stage's span active). */
function runPredict(executor: PredictExecutor, request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult> | InferenceResult {
  return executor.run(request, ctx);
}

/** True for a promise or another thenable (what model code may return), which the chain awaits; anything else is the value itself. */
function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return value instanceof Promise || (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function');
}
