import { randomUUID } from 'node:crypto';
import type { WireInferenceRequest } from '../codecs/wire-tensor.interface';
import { ErrorCode } from '../errors/error-code.enum';
import { deadlineExceeded, invalidRequest, modelError, modelNotReady, operationNotFound } from '../errors/errors';
import { isModelServerError, ModelServerError } from '../errors/model-server.error';
import type { InferenceRequest, InferenceResponse } from '../model/inference.interface';
import { ModelState } from '../model/model-state.enum';
import type { ModelCallOptions, ModelCaller, ModelCallRequest } from '../model/model-caller.interface';
import { RequestContext, type NestedCall } from '../model/request-context';
import type { InferenceEventStream } from '../monitoring/inference-event-stream';
import type { StageTimings } from '../monitoring/inference-event.interface';
import type { ModelRepository } from '../repository/model-repository';
import type { ModelVersion } from '../repository/model-version';
import type { CallOptions, OperationInput, OperationOutput } from './call-options.interface';
import { decodeRequest } from './request-decoder';
import { encodeResponse, isInferenceResult } from './response-encoder';

/** Seconds a client should wait before retrying a model that is still loading. */
const LOADING_RETRY_AFTER_S = 5;

/** How deep models may call models in-process before the call is refused as a likely cycle. */
export const MAX_CALL_DEPTH = 8;

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
      { protocol: 'internal', deadline: parent.deadline, signal: parent.signal, headers: parent.headers },
      parent.depth + 1,
    );

  constructor(
    private readonly repository: ModelRepository,
    private readonly events: InferenceEventStream,
  ) {
    repository.setCaller(this.caller);
  }

  /** Runs `preprocess → validate → predict → postprocess` and returns the checked response. */
  infer(name: string, version: string | undefined, wire: WireInferenceRequest, call: CallOptions): Promise<InferenceResponse> {
    return this.run('infer', name, version, wire, call);
  }

  /** Runs the same chain with `explain` in place of `predict`. */
  explain(name: string, version: string | undefined, wire: WireInferenceRequest, call: CallOptions): Promise<InferenceResponse> {
    return this.run('explain', name, version, wire, call);
  }

  /** The version a request addresses, if it is ready to serve; else a 404 or 503. @internal */
  readyVersion(name: string, version: string | undefined): ModelVersion {
    const mv = this.repository.get(name, version);
    if (mv.state !== ModelState.Ready) {
      throw modelNotReady(mv.label, mv.state, mv.error, mv.state === ModelState.Loading ? LOADING_RETRY_AFTER_S : undefined);
    }
    if (this.repository.isShuttingDown) throw modelNotReady(mv.label, 'shutting down', undefined, 1);
    return mv;
  }

  private async run(
    op: 'infer' | 'explain',
    name: string,
    version: string | undefined,
    wire: WireInferenceRequest,
    call: CallOptions,
    depth = 0,
  ): Promise<InferenceResponse> {
    if (depth > MAX_CALL_DEPTH) {
      throw new ModelServerError(
        ErrorCode.ModelError,
        `in-process calls nest deeper than ${MAX_CALL_DEPTH} levels (calling '${name}'): do the models call each other in a cycle?`,
      );
    }
    const mv = this.readyVersion(name, version);
    const hooks = mv.hooks!;
    if (op === 'explain' && hooks.explain === null) {
      throw new ModelServerError(ErrorCode.NotFound, `model ${mv.label} does not implement explain`);
    }
    const ctx = new RequestContext(wire.id ?? randomUUID(), op, call.signal, call.deadline, call.headers, depth, this.nestedCall);
    const trace = this.events.active ? this.startTrace(mv, ctx, call, wire) : null;
    let stage = 'decode';
    let t = performance.now();
    try {
      let request = decodeRequest(wire, ctx.id, mv, op);
      t = lap(trace, stage, t);
      if (hooks.preprocess !== null) {
        stage = 'preprocess';
        checkDeadline(call, stage);
        request = await hooks.preprocess(request, ctx);
        t = lap(trace, stage, t);
      }
      if (hooks.validate !== null) {
        stage = 'validate';
        await hooks.validate(request, ctx);
        t = lap(trace, stage, t);
      }
      if (trace !== null) trace.request = request;
      stage = op === 'infer' ? 'predict' : 'explain';
      checkDeadline(call, stage);
      let result = op === 'infer' ? await mv.executor!.run(request, ctx) : await hooks.explain!(request, ctx);
      t = lap(trace, stage, t);
      if (hooks.postprocess !== null) {
        stage = 'postprocess';
        result = await hooks.postprocess(result, ctx);
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
      const coded = classify(err, mv, stage);
      if (trace !== null) trace.error = coded;
      throw coded;
    } finally {
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
    const ctx = new RequestContext(id, op, call.signal, call.deadline, call.headers, 0, this.nestedCall);
    const trace = this.events.active ? this.startTrace(mv, ctx, call, input.wire ?? input.body) : null;
    let stage = 'decode';
    let t = performance.now();
    try {
      const request: InferenceRequest =
        input.wire !== undefined ? decodeRequest(input.wire, id, mv, op) : { id, inputs: [], body: input.body };
      t = lap(trace, stage, t);
      if (trace !== null) trace.request = request;
      stage = 'operation';
      checkDeadline(call, stage);
      const fn = (mv.instance as unknown as Record<string | symbol, Function>)[method];
      const value: unknown = await fn.call(mv.instance, request, ctx);
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
      const coded = classify(err, mv, stage);
      if (trace !== null) trace.error = coded;
      throw coded;
    } finally {
      if (trace !== null) this.finishTrace(trace);
    }
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
    const { mv, ctx, error } = trace;
    const modelMetrics = mv.instance?.context.metrics;
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
      request: trace.request,
      rawRequest: trace.request === undefined ? trace.rawRequest : undefined,
      response: trace.response,
      errorCode: error?.code,
      error: error?.message,
      metrics: ctx.metrics === null ? { ...modelMetrics } : { ...modelMetrics, ...ctx.metrics },
      statistics: ctx.statistics ?? undefined,
      labels: mv.config.labels,
      traceparent: trace.call.headers?.traceparent,
    });
  }
}

const INTERNAL_CALL: CallOptions = { protocol: 'internal' };

/** Records the stage's duration when tracing, and returns the new stage start. */
function lap(trace: Trace | null, stage: string, since: number): number {
  const now = performance.now();
  if (trace !== null) trace.stages[stage as keyof StageTimings] = now - since;
  return now;
}

function checkDeadline(call: CallOptions, stage: string): void {
  if (call.deadline !== undefined && Date.now() >= call.deadline) throw deadlineExceeded(stage);
}

/**
 * Gives every failure its catalogue code: coded errors keep theirs; an uncoded error thrown by `validate`
 * is the client's (400); anything else thrown by model code is the model's (500).
 */
function classify(err: unknown, mv: ModelVersion, stage: string): ModelServerError {
  if (isModelServerError(err)) return err;
  if (stage === 'validate') return invalidRequest(err instanceof Error ? err.message : String(err));
  return modelError(mv.label, stage, err);
}
