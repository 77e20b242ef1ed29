import { randomUUID } from 'node:crypto';
import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import { ErrorCode } from '../errors/error-code.enum';
import { isModelServerError, ModelServerError } from '../errors/model-server.error';
import type { InferenceRequest, InferenceResponse } from '../model/inference.interface';
import { ModelState } from '../model/model-state.enum';
import type { ModelCallOptions, ModelCaller, ModelCallRequest } from '../model/model-caller.interface';
import { RequestContext, type NestedCall } from '../model/request-context';
import type { InferenceEventStream } from './inference-event-stream';
import type { StageTimings } from './inference-event.interface';
import type { LoadedModel } from '../repository/loaded-model';
import type { ModelRepository } from '../repository/model-repository';
import { inModelScope } from '../repository/model-scope';
import type { ModelVersion } from '../repository/model-version';
import type { CallOptions, OperationInput, OperationOutput } from './call-options.interface';
import { decodeDeferredData, hasDeferredData } from '../codecs/deferred-data.decoder';
import { alignLargeRawData } from '../codecs/raw-data.decoder';
import { TensorBudget } from '../codecs/tensor-budget';
import { DeadlineTimer, earliestDeadline } from './deadline-timer';
import { RequestByteBudget } from './request-byte-budget';
import { decodeRequest } from './request-decoder';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from './request-limits';
import { encodeResponse, isInferenceResult } from './response-encoder';
import { asInternalError, callsTooDeep, errorDetail, explainNotImplemented, invalidRequest, modelError, modelNotReady, operationNotFound, tooManyInFlight } from '../errors';

/** How deep models may call models in-process before the call is refused as a likely cycle. */
const MAX_CALL_DEPTH = 8;

/** The facts of one request the monitoring event is built from (only when something subscribes). */
interface Trace {
  mv: ModelVersion;
  ctx: RequestContext;
  call: CallOptions;
  startedAt: number;
  start: number;
  stages: StageTimings;
  request: InferenceRequest | undefined;
  rawRequest: unknown;
  response: unknown;
  error: ModelServerError | undefined;
}

/**
 * One request's journey, shared by every transport: lookup, readiness, decode, the hook chain, encode,
 * ids, deadlines, stage timings and the monitoring tap. It never sees HTTP or gRPC.
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
      return this.run('infer', name, options?.version, request as WireInferenceRequest, INTERNAL_CALL, 1);
    },
  };

  /** Nested calls from inside a request (`ctx.infer`): the parent's deadline, signal and depth carry on. */
  private readonly nestedCall: NestedCall = (name: string, request: ModelCallRequest, options: ModelCallOptions | undefined, parent: RequestContext) =>
    this.run(
      'infer',
      name,
      options?.version,
      request as WireInferenceRequest,
      { protocol: 'internal', deadline: parent.deadline, headers: parent.headers },
      parent.depth + 1,
      parent,
    );

  /** Requests in the data plane now, all models together. */
  private inFlight = 0;

  /** Errors whose request already has its monitoring event (so a transport does not report them again). */
  private readonly traced = new WeakSet<object>();

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

  /** Runs `preprocess → validate → predict → postprocess` and returns the checked response. */
  infer(name: string, version: string | undefined, wire: WireInferenceRequest, call: CallOptions): Promise<InferenceResponse> {
    return this.run('infer', name, version, wire, call);
  }

  /** Runs the same chain with `explain` in place of `predict`. */
  explain(name: string, version: string | undefined, wire: WireInferenceRequest, call: CallOptions): Promise<InferenceResponse> {
    return this.run('explain', name, version, wire, call);
  }

  /**
   * The version a request addresses, if it is ready to serve; else a 404 or 503 (with `Retry-After` while it
   * loads or unloads). Once shutdown has begun only nested calls of requests already in flight are taken. @internal
   */
  readyVersion(name: string, version: string | undefined, depth = 0): ModelVersion {
    const mv = this.repository.get(name, version);
    if (mv.state !== ModelState.Ready) throw mv.notReady();
    if (depth === 0 && this.repository.isShuttingDown) throw modelNotReady(mv.label, 'shutting down', undefined, 1);
    return mv;
  }

  /**
   * Takes a request into the version (which counts it, so an unload waits for it) and returns the loaded
   * instance it runs on for its whole journey; 503 with Retry-After when the server or the model is at its limit.
   */
  private admit(mv: ModelVersion): LoadedModel {
    const max = this.limits.maxInFlight;
    if (max > 0 && this.inFlight >= max) throw tooManyInFlight('the server', max, 'maxInFlight / MAX_IN_FLIGHT');
    const serving = mv.enter();
    this.inFlight++;
    return serving;
  }

  private release(mv: ModelVersion, serving: LoadedModel): void {
    this.inFlight--;
    mv.leave(serving);
  }

  /**
   * Decodes tensor data a transport left undecoded (a large JSON body's arrays, still bytes of the body), in
   * slices and within the request's tensor budget, once the model is known to be there and ready.
   */
  private decodeDeferred(wire: WireInferenceRequest): void | Promise<void> {
    const aligned = alignLargeRawData(wire);
    if (aligned !== undefined) return aligned.then(() => this.decodeDeferred(wire));
    if (hasDeferredData(wire)) return decodeDeferredData(wire, new TensorBudget(this.limits.maxTensorBytes));
  }

  /** The request's context, with its deadline (the earliest of the client's, the model's and the server's). */
  private context(id: string, op: string, mv: ModelVersion, call: CallOptions, depth: number, parent: RequestContext | undefined): RequestContext {
    const deadline =
      mv.timeoutMs === 0 && this.limits.requestTimeoutMs === 0
        ? call.deadline
        : earliestDeadline(call.deadline, mv.timeoutMs, this.limits.requestTimeoutMs, Date.now());
    return new RequestContext(id, op, deadline, call.headers, depth, this.nestedCall, call.cancellation, parent);
  }

  private async run(
    op: 'infer' | 'explain',
    name: string,
    version: string | undefined,
    wire: WireInferenceRequest,
    call: CallOptions,
    depth = 0,
    parent: RequestContext | undefined = undefined,
  ): Promise<InferenceResponse> {
    if (depth > MAX_CALL_DEPTH) {
      throw callsTooDeep(MAX_CALL_DEPTH, name);
    }
    const mv = this.readyVersion(name, version, depth);
    const serving = this.admit(mv);
    const hooks = serving.hooks;
    if (op === 'explain' && hooks.explain === null) {
      this.release(mv, serving);
      throw explainNotImplemented(mv.label);
    }
    const ctx = this.context(wire.id ?? randomUUID(), op, mv, call, depth, parent);
    const timer = ctx.deadline === undefined ? null : new DeadlineTimer(ctx.deadline, ctx);
    const trace = this.events.active ? this.startTrace(mv, ctx, call, wire) : null;
    let stage = 'decode';
    let t = trace === null ? 0 : performance.now();
    try {
      await this.decodeDeferred(wire);
      let request = decodeRequest(wire, ctx.id, mv, op, this.limits.maxTensorBytes);
      t = lap(trace, stage, t);
      if (hooks.preprocess !== null) {
        stage = 'preprocess';
        const next = hooks.preprocess(request, ctx);
        request = await (timer === null ? next : timer.wait(next, stage));
        t = lap(trace, stage, t);
      }
      if (hooks.validate !== null) {
        stage = 'validate';
        const done = hooks.validate(request, ctx);
        await (timer === null ? done : timer.wait(done, stage));
        t = lap(trace, stage, t);
      }
      if (trace !== null) trace.request = request;
      stage = op === 'infer' ? 'predict' : 'explain';
      const running = op === 'infer' ? serving.executor.run(request, ctx) : hooks.explain!(request, ctx);
      let result = await (timer === null ? running : timer.wait(running, stage));
      t = lap(trace, stage, t);
      if (hooks.postprocess !== null) {
        stage = 'postprocess';
        const shaped = hooks.postprocess(result, ctx);
        result = await (timer === null ? shaped : timer.wait(shaped, stage));
        t = lap(trace, stage, t);
      }
      stage = 'encode';
      const response = encodeResponse(result, mv, request, op === 'infer' ? 'predict' : 'explain');
      if (trace !== null) {
        lap(trace, stage, t);
        trace.response = response;
      }
      return response;
    } catch (err) {
      const coded = classify(err, mv, stage, ctx.id);
      if (trace !== null) trace.error = coded;
      throw coded;
    } finally {
      this.release(mv, serving);
      if (timer !== null) timer.clear();
      if (trace !== null) this.finishTrace(trace);
    }
  }

  /**
   * Runs a custom operation the model declared with `@Operation`. Its body is decoded when it is a v2 request;
   * otherwise the model gets it as `request.body`.
   */
  async operation(
    name: string,
    version: string | undefined,
    op: string,
    input: OperationInput,
    call: CallOptions,
  ): Promise<OperationOutput> {
    const mv = this.readyVersion(name, version);
    const method = mv.operations.get(op);
    if (method === undefined) throw operationNotFound(name, op);
    const id = input.wire?.id ?? randomUUID();
    const serving = this.admit(mv);
    const ctx = this.context(id, op, mv, call, 0, undefined);
    const timer = ctx.deadline === undefined ? null : new DeadlineTimer(ctx.deadline, ctx);
    const trace = this.events.active ? this.startTrace(mv, ctx, call, input.wire ?? input.body) : null;
    let stage = 'decode';
    let t = trace === null ? 0 : performance.now();
    try {
      if (input.wire !== undefined) await this.decodeDeferred(input.wire);
      const request: InferenceRequest =
        input.wire !== undefined ? decodeRequest(input.wire, id, mv, op, this.limits.maxTensorBytes) : { id, inputs: [], body: input.body };
      t = lap(trace, stage, t);
      if (trace !== null) trace.request = request;
      stage = 'operation';
      const answer: unknown = inModelScope(mv, callOperation, serving.instance, method, request, ctx);
      const value: unknown = await (timer === null ? answer : timer.wait(answer, stage));
      t = lap(trace, stage, t);
      let output: OperationOutput;
      if (isInferenceResult(value)) {
        stage = 'encode';
        output = { kind: 'inference', response: encodeResponse(value, mv, request, op) };
        lap(trace, stage, t);
      } else {
        output = { kind: 'value', value: value === undefined ? {} : value };
      }
      if (trace !== null) trace.response = output.kind === 'inference' ? output.response : output.value;
      return output;
    } catch (err) {
      const coded = classify(err, mv, stage, ctx.id);
      if (trace !== null) trace.error = coded;
      throw coded;
    } finally {
      this.release(mv, serving);
      if (timer !== null) timer.clear();
      if (trace !== null) this.finishTrace(trace);
    }
  }

  /**
   * Emits the one monitoring event of a request to a known model that failed before its hook chain was traced:
   * refused by the transport (malformed body, structural check, body limit) or by the data plane (not ready,
   * overloaded). Errors whose event was already emitted, unknown models, versions and operations, and
   * unauthenticated callers are skipped; nothing happens while monitoring is off. @internal
   */
  reportRejected(op: string, name: string, version: string | undefined, raw: unknown, error: unknown, call: CallOptions): void {
    if (!this.events.active || (typeof error === 'object' && error !== null && this.traced.has(error))) return;
    if (isModelServerError(error) && error.code === ErrorCode.Unauthenticated) return;
    let mv: ModelVersion;
    try {
      mv = this.repository.get(name, version);
    } catch {
      return;
    }
    // Only operations the model has: a name the client made up must not become a metric series of its own.
    if (op !== 'infer' && (op === 'explain' ? mv.hooks !== null && mv.hooks.explain === null : !mv.operations.has(op))) return;
    const wireId = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
    const ctx = this.context(typeof wireId === 'string' ? wireId : randomUUID(), op, mv, call, 0, undefined);
    const trace = this.startTrace(mv, ctx, call, raw);
    trace.error = asInternalError(error);
    this.finishTrace(trace);
  }

  private startTrace(mv: ModelVersion, ctx: RequestContext, call: CallOptions, raw: unknown): Trace {
    return {
      mv,
      ctx,
      call,
      startedAt: Date.now(),
      start: performance.now(),
      stages: {},
      request: undefined,
      rawRequest: raw,
      response: undefined,
      error: undefined,
    };
  }

  private finishTrace(trace: Trace): void {
    const { mv, ctx, error, request } = trace;
    const modelMetrics = mv.instance?.context.metrics;
    if (error !== undefined) this.traced.add(error);
    this.events.emit({
      id: ctx.id,
      model: mv.name,
      version: mv.version,
      modelClass: mv.className,
      op: ctx.op,
      protocol: trace.call.protocol,
      startedAt: trace.startedAt,
      durationMs: performance.now() - trace.start,
      stages: trace.stages,
      status: error === undefined ? 'ok' : 'error',
      request,
      // The client's text stands for the request only when no hook could have changed what the model got.
      requestText: request !== undefined && mv.hooks?.preprocess === null && mv.hooks.validate === null ? trace.call.requestText : undefined,
      rawRequest: trace.rawRequest,
      response: trace.response,
      errorCode: error?.code,
      // The server's record: the model's own error text included (clients get it only in debug mode).
      error: error === undefined ? undefined : errorDetail(error),
      metrics: ctx.metrics === null ? { ...modelMetrics } : { ...modelMetrics, ...ctx.metrics },
      requestMetrics: ctx.metrics ?? undefined,
      statistics: ctx.statistics ?? undefined,
      labels: mv.config.labels,
      traceparent: trace.call.headers?.traceparent,
    });
  }
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
}

const NO_LIMITS: DataPlaneLimits = { maxInFlight: 0, requestTimeoutMs: 0, ...DEFAULT_REQUEST_LIMITS, maxRequestBytesInFlight: 0 };

/** Records the stage's duration when tracing, and returns the new stage start. */
function lap(trace: Trace | null, stage: string, since: number): number {
  if (trace === null) return since; // stage times are only kept for monitoring
  const now = performance.now();
  trace.stages[stage as keyof StageTimings] = now - since;
  return now;
}


/**
 * Gives every failure its catalogue code: coded errors keep theirs; an uncoded error thrown by `validate`
 * is the client's (400); anything else thrown by model code is the model's (500).
 */
function classify(err: unknown, mv: ModelVersion, stage: string, requestId: string): ModelServerError {
  if (isModelServerError(err)) return err;
  if (stage === 'validate') return invalidRequest(err instanceof Error ? err.message : String(err));
  return modelError(mv.label, stage, err, requestId);
}

/** Calls the custom operation `method` of `instance` (inside the model's scope). */
function callOperation(instance: object, method: string | symbol, request: InferenceRequest, ctx: RequestContext): unknown {
  return (instance as Record<string | symbol, (request: InferenceRequest, ctx: RequestContext) => unknown>)[method].call(instance, request, ctx);
}
