/**
 * The code a model worker thread runs: loads its own instance of the model class (its `load` runs here),
 * then answers `predict` messages, one at a time, until it is told to unload.
 *
 * @internal
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { InferenceRequest, InferenceResponse, InferenceResult } from '../model/inference.interface';
import type { ModelCallOptions, ModelCallRequest } from '../model/model-caller.interface';
import { ModelContext, type ModelLogger } from '../model/model-context';
import { attachContext, type ModelServer } from '../model/model-server';
import { resolveHooks } from '../model/model-hooks';
import { RequestContext } from '../model/request-context';
import type { Tensor } from '../model/tensor.interface';
import { loadModelClass } from './model-class.loader';
import { addOnce, hasOwnKeys, prepareData, restoreData, toWireTensor, type OwnedView } from './tensor-transfer.util';
import type { FromWorker, ToWorker, WireWorkerTensor, WorkerInit } from './worker-messages.interface';
import { WORKER_STREAM_CREDIT } from './worker-stream';

import { fromErrorFacts, notAnInferenceResult, toErrorFacts, workerResultUnsendable } from '../errors';
import type { WorkerTracing } from '../tracing/worker-tracing';

type PredictMessage = Extract<ToWorker, { kind: 'predict' }>;
type Predict = (request: InferenceRequest, ctx: RequestContext) => Promise<InferenceResult> | InferenceResult;

class ModelWorkerRuntime {
  private model: ModelServer | null = null;
  private predict: Predict | null = null;
  private predictStream: ((request: InferenceRequest, ctx: RequestContext) => AsyncIterable<InferenceResult>) | null = null;
  private readonly running = new Map<number, RequestContext>();
  /** The streams running, by job: what a `pull` calls (one more part may go). */
  private readonly credits = new Map<number, () => void>();
  private readonly pendingCalls = new Map<number, { resolve: (r: InferenceResponse) => void; reject: (e: Error) => void }>();
  private readonly jobs = new WeakMap<RequestContext, number>();
  private nextCall = 1;
  private readonly logger: ModelLogger;
  /** Spans of traced requests, when the main thread traces (the SDK is only loaded then). */
  private tracing: WorkerTracing | null = null;

  constructor(
    private readonly port: MessagePort,
    private readonly init: WorkerInit,
  ) {
    const log = (level: 'log' | 'warn' | 'error' | 'debug') => (message: string, ...rest: unknown[]) =>
      this.send({ kind: 'log', level, message: rest.length === 0 ? String(message) : [message, ...rest.map(describe)].join(' ') });
    this.logger = { log: log('log'), warn: log('warn'), error: log('error'), debug: log('debug') };
    port.on('message', (msg: ToWorker) => this.onMessage(msg));
  }

  async load(): Promise<void> {
    const init = this.init;
    try {
      if (init.tracing) {
        // The trace SDK is loaded only in the workers of a server that traces.
        const { WorkerTracing: Tracing } = require('../tracing/worker-tracing') as typeof import('../tracing/worker-tracing');
        this.tracing = new Tracing(init.index, init.tracing);
      }
      const { model: Model, file } = loadModelClass(init.modulePath, init.className);
      if (Model.name !== init.expectedClassName) {
        throw new Error(
          `${file} exports '${init.className}' as class ${Model.name}, but the main thread serves ${init.expectedClassName}; ` +
            `set className (or the config's "class") to the export that holds ${init.expectedClassName}`,
        );
      }
      // A class with constructor dependencies is refused at boot for workers: Nest's container lives in the main thread.
      const model = new (Model as new () => ModelServer)();
      attachContext(
        model,
        new ModelContext({
          name: init.name,
          version: init.version,
          modelPath: init.modelPath,
          parameters: init.parameters,
          labels: init.labels,
          logger: this.logger,
          caller: { infer: (name, request, options) => this.call(0, name, request, options) },
        }),
      );
      await model.load();
      const hooks = resolveHooks(model);
      this.model = model;
      // A worker sends tensors back: plain values (PlainResult) are refused by sendResult with the reason.
      this.predict = hooks.predict;
      this.predictStream = hooks.predictStream;
      this.send({
        kind: 'ready',
        facts: { inputs: model.inputs, outputs: model.outputs, platform: model.platform, metrics: { ...model.context.metrics } },
      });
    } catch (err) {
      this.send({ kind: 'load-failed', error: toErrorFacts(err) });
    }
  }

  private onMessage(msg: ToWorker): void {
    switch (msg.kind) {
      case 'predict':
        void this.run(msg);
        return;
      case 'abort':
        this.running.get(msg.job)?.abort(msg.reason);
        return;
      case 'pull':
        this.credits.get(msg.job)?.();
        return;
      case 'call-result': {
        const pending = this.pendingCalls.get(msg.call);
        if (pending === undefined) return;
        this.pendingCalls.delete(msg.call);
        if (msg.error !== undefined) pending.reject(fromErrorFacts(msg.error));
        else pending.resolve(msg.response!);
        return;
      }
      case 'unload':
        void this.unload();
        return;
    }
  }

  private async run(msg: PredictMessage): Promise<void> {
    const inputs: Tensor[] = new Array(msg.inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const t = msg.inputs[i];
      const tensor = { name: t.name, datatype: t.datatype, shape: t.shape, data: restoreData(t.data) } as Tensor;
      if (t.parameters !== undefined) tensor.parameters = t.parameters;
      inputs[i] = tensor;
    }
    const request: InferenceRequest = { id: msg.id, inputs };
    if (msg.parameters !== undefined) request.parameters = msg.parameters;
    if (msg.outputs !== undefined) request.outputs = msg.outputs;
    const facts = msg.ctx;
    const ctx = new RequestContext(facts.id, facts.op, facts.deadline, facts.headers, facts.depth, this.nestedCall);
    this.jobs.set(ctx, msg.job);
    this.running.set(msg.job, ctx);
    if (facts.state !== undefined) Object.assign(ctx.state, facts.state);
    try {
      const predict = this.predict!;
      const tracing = this.tracing;
      if (msg.stream === true) {
        await (tracing === null ? this.stream(msg, request, ctx) : tracing.run(msg.job, facts.traceparent, () => this.stream(msg, request, ctx)));
        this.sendResult(msg, request, ctx, { outputs: [] });
      } else {
        const result = tracing === null ? await predict(request, ctx) : await tracing.run(msg.job, facts.traceparent, () => predict(request, ctx));
        this.sendResult(msg, request, ctx, result);
      }
    } catch (err) {
      this.sendFailure(msg, request, err);
    } finally {
      this.running.delete(msg.job);
      this.credits.delete(msg.job);
    }
  }

  /**
   * Runs `predictStream`, sending each part as it comes (its buffers transferred) while the main thread has
   * taken enough of them: at most {@link WORKER_STREAM_CREDIT} parts are ahead. Stops when the request's signal
   * fires (the main thread aborted it); the model's iteration is ended with `return`.
   */
  private async stream(msg: PredictMessage, request: InferenceRequest, ctx: RequestContext): Promise<void> {
    if (this.predictStream === null) throw new Error(`${this.init.className} has no predictStream`);
    let credit = WORKER_STREAM_CREDIT;
    let wake: (() => void) | null = null;
    const more = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    this.credits.set(msg.job, () => {
      credit++;
      more();
    });
    ctx.signal.addEventListener('abort', more, { once: true });
    for await (const part of this.predictStream(request, ctx)) {
      if (ctx.aborted) break;
      if (typeof part !== 'object' || part === null || !Array.isArray(part.outputs)) throw notAnInferenceResult(`'${this.init.name}'`, 'predictStream');
      const transfer: ArrayBuffer[] = [];
      const outputs: WireWorkerTensor[] = part.outputs.map((out) => toWireTensor(out as WireWorkerTensor, prepareData(out.data, transfer, ownsBuffer).data));
      const message: FromWorker = { kind: 'part', job: msg.job, outputs };
      if (part.parameters !== undefined) message.parameters = part.parameters;
      this.port.postMessage(message, transfer);
      credit--;
      while (credit <= 0 && !ctx.aborted) await new Promise<void>((resolve) => (wake = resolve));
      if (ctx.aborted) break;
    }
  }

  /** The inputs whose buffers came over are sent back with the result, so the main thread keeps its tensors. */
  private returnedInputs(msg: PredictMessage, request: InferenceRequest, transfer: ArrayBuffer[]): unknown[] {
    const returned = new Array<unknown>(msg.moved.length);
    for (let i = 0; i < returned.length; i++) {
      const data = request.inputs[i].data as unknown as OwnedView;
      if (msg.moved[i] && ArrayBuffer.isView(data)) {
        addOnce(transfer, data.buffer);
        returned[i] = data;
      } else {
        returned[i] = null;
      }
    }
    return returned;
  }

  private sendResult(msg: PredictMessage, request: InferenceRequest, ctx: RequestContext, result: InferenceResult): void {
    if (typeof result !== 'object' || result === null || !Array.isArray(result.outputs)) {
      this.sendFailure(msg, request, notAnInferenceResult(`'${this.init.name}'`, 'predict'));
      return;
    }
    const transfer: ArrayBuffer[] = [];
    const returned = this.returnedInputs(msg, request, transfer);
    // An output moves when it owns its whole buffer or shares one that moves anyway; a view of part of
    // another buffer is copied, so memory the model keeps is never taken from it.
    const movable = (view: OwnedView) => transfer.includes(view.buffer) || (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength);
    const outputs: WireWorkerTensor[] = new Array(result.outputs.length);
    for (let i = 0; i < outputs.length; i++) {
      const out = result.outputs[i] as WireWorkerTensor;
      outputs[i] = typeof out === 'object' && out !== null ? toWireTensor(out, prepareData(out.data, transfer, movable).data) : out;
    }
    const message: FromWorker = {
      kind: 'result',
      job: msg.job,
      outputs,
      returned,
      metrics: ctx.metrics,
      statistics: ctx.statistics,
      state: hasOwnKeys(ctx.state) ? ctx.state : undefined,
    };
    if (result.parameters !== undefined) message.parameters = result.parameters;
    const spans = this.tracing?.take(msg.job);
    if (spans !== undefined) message.spans = spans;
    try {
      this.port.postMessage(message, transfer);
    } catch (err) {
      this.sendFailure(
        msg,
        request,
        workerResultUnsendable(this.init.name, (err as Error).message),
      );
    }
  }

  private sendFailure(msg: PredictMessage, request: InferenceRequest, err: unknown): void {
    const error = toErrorFacts(err);
    const spans = this.tracing?.take(msg.job);
    try {
      const transfer: ArrayBuffer[] = [];
      const returned = this.returnedInputs(msg, request, transfer);
      this.port.postMessage({ kind: 'failed', job: msg.job, error, returned, spans } satisfies FromWorker, transfer);
    } catch {
      // The inputs could not go back (detached by the model?): the main thread keeps what it has.
      this.port.postMessage({ kind: 'failed', job: msg.job, error, returned: [] } satisfies FromWorker);
    }
  }

  /** `ctx.infer` inside predict: the main thread runs the call on behalf of the request. */
  private readonly nestedCall = (name: string, request: ModelCallRequest, options: ModelCallOptions | undefined, parent: RequestContext) =>
    this.call(this.jobs.get(parent) ?? 0, name, request, options);

  private call(job: number, name: string, request: ModelCallRequest, options: ModelCallOptions | undefined): Promise<InferenceResponse> {
    const call = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.pendingCalls.set(call, { resolve, reject });
      const message: FromWorker = { kind: 'call', job, call, name, request };
      if (options !== undefined) message.options = options;
      try {
        this.port.postMessage(message);
      } catch (err) {
        this.pendingCalls.delete(call);
        reject(new Error(`cannot send the call to model '${name}' from a worker thread: ${(err as Error).message}`));
      }
    });
  }

  private async unload(): Promise<void> {
    try {
      if (this.model !== null) await this.model.unload();
      this.send({ kind: 'unloaded' });
    } catch (err) {
      this.send({ kind: 'unloaded', error: toErrorFacts(err) });
    }
  }

  private send(message: FromWorker): void {
    this.port.postMessage(message);
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.stack ?? value.message;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Worker threads run at a lower scheduling priority than the main thread (a higher nice value; on Linux it is
 * per thread): when they and the event loop want the same core, health checks and I/O go first, and the workers
 * still get every cycle the main thread leaves idle.
 */
const WORKER_NICE_INCREMENT = 10;

function lowerPriority(): void {
  try {
    setPriority(0, Math.min(19, getPriority(0) + WORKER_NICE_INCREMENT));
  } catch {
    // Not permitted or not supported here: the worker keeps the default priority.
  }
}

if (parentPort !== null && (workerData as { init?: WorkerInit } | undefined)?.init !== undefined) {
  lowerPriority();
  void new ModelWorkerRuntime(parentPort, (workerData as { init: WorkerInit }).init).load();
}

/** A part's output moves to the main thread when it owns its whole buffer; a view of part of one is copied. */
function ownsBuffer(view: OwnedView): boolean {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
}
