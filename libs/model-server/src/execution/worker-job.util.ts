import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { ModelServer } from '../model/model-server';
import type { RequestContext } from '../model/request-context';
import type { OutputTensor, Parameters, Tensor } from '../model/tensor.interface';
import { hasOwnKeys, pinnedBuffers, prepareData, restoreData, toWireTensor, type OwnedView } from './tensor-transfer.util';
import type { ExecutorTarget } from './predict-executor.interface';
import type { FromWorker, LoadedFacts, ToWorker, WireWorkerTensor, WorkerInit } from './worker-messages.interface';

/**
 * What each worker thread needs to load its own instance: the class's file and export (a clear error when
 * `modulePath` is missing) and the main-thread instance's context (name, version, model path, parameters, labels).
 *
 * @internal
 */
export function workerInitOf(target: ExecutorTarget, label: string, workers: number, tracing: WorkerInit['tracing']): Omit<WorkerInit, 'index'> {
  const modulePath = target.config.modulePath;
  if (typeof modulePath !== 'string' || modulePath === '') {
    throw new Error(
      `model ${label} runs in worker threads (workers: ${workers}), which load the model class again from its file: ` +
        'set modulePath (the file that exports the class) and, if the export has another name, className',
    );
  }
  const ctx = target.model.context;
  const expectedClassName = target.model.constructor.name;
  return {
    modulePath,
    className: typeof target.config.className === 'string' ? target.config.className : expectedClassName,
    expectedClassName,
    name: ctx.name,
    version: ctx.version,
    modelPath: ctx.modelPath,
    parameters: ctx.parameters,
    labels: ctx.labels,
    tracing,
  };
}

/**
 * Shows what a worker's `load` produced on the main-thread instance: its model-level metrics, and, when that
 * instance is not loaded itself, its metadata (inputs, outputs, platform).
 *
 * @internal
 */
export function adoptLoadedFacts(model: ModelServer, facts: LoadedFacts, replaceMetadata: boolean): void {
  if (replaceMetadata) {
    if (facts.inputs !== undefined) model.inputs = facts.inputs;
    if (facts.outputs !== undefined) model.outputs = facts.outputs;
    model.platform = facts.platform;
  }
  Object.assign(model.context.metrics, facts.metrics);
}

/**
 * The `predict` message for a worker and the buffers it transfers: the request's numeric tensors move with
 * their whole buffers (unless BYTES live in them too: those are copied), BYTES go as copies of their bytes and
 * offsets buffers (they stay readable here), and the context's facts (id, deadline, headers, depth, `state`) go
 * along. Throws when something cannot be cloned.
 *
 * @internal
 */
export function predictMessage(
  job: number,
  request: InferenceRequest,
  ctx: RequestContext,
  traceparent: string | undefined,
): { message: ToWorker; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const pinned = pinnedBuffers(request.inputs);
  const movable = (view: OwnedView) => pinned === null || !pinned.has(view.buffer);
  const inputs: WireWorkerTensor[] = new Array(request.inputs.length);
  const moved: boolean[] = new Array(request.inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const t = request.inputs[i];
    const prepared = prepareData(t.data, transfer, movable);
    inputs[i] = toWireTensor(t, prepared.data);
    moved[i] = prepared.moved;
  }
  const message: ToWorker = {
    kind: 'predict',
    job,
    id: request.id,
    inputs,
    parameters: request.parameters,
    outputs: request.outputs,
    moved,
    ctx: {
      id: ctx.id,
      op: ctx.op,
      deadline: ctx.deadline,
      headers: ctx.headers,
      depth: ctx.depth,
      state: hasOwnKeys(ctx.state) ? ctx.state : undefined,
    },
  };
  if (traceparent !== undefined) message.ctx.traceparent = traceparent;
  return { message, transfer };
}

/** The request's tensors get back the buffers that moved to the worker (they return with its answer). @internal */
export function restoreInputs(inputs: Tensor[], returned: readonly unknown[]): void {
  for (let i = 0; i < inputs.length && i < returned.length; i++) {
    if (returned[i] !== null && returned[i] !== undefined) (inputs[i] as { data: unknown }).data = returned[i];
  }
}

/**
 * The worker's result as `predict`'s result on this thread; the metrics, statistics and `state` the worker's
 * hooks recorded are added to the request's context.
 *
 * @internal
 */
export function resultOf(msg: Extract<FromWorker, { kind: 'result' }>, ctx: RequestContext): InferenceResult {
  if (msg.metrics !== null) for (const key of Object.keys(msg.metrics)) ctx.setMetric(key, msg.metrics[key]);
  if (msg.statistics !== null) ctx.addStatistics(msg.statistics);
  if (msg.state !== undefined) Object.assign(ctx.state, msg.state);
  return partOf(msg);
}

/** A result's (or a stream part's) outputs and parameters as they came from the worker, data restored. @internal */
export function partOf(msg: { outputs: WireWorkerTensor[]; parameters?: Parameters }): InferenceResult {
  const outputs: OutputTensor[] = new Array(msg.outputs.length);
  for (let i = 0; i < outputs.length; i++) {
    const t = msg.outputs[i];
    outputs[i] = (typeof t === 'object' && t !== null ? toWireTensor(t, restoreData(t.data)) : t) as OutputTensor;
  }
  const result: InferenceResult = { outputs };
  if (msg.parameters !== undefined) result.parameters = msg.parameters;
  return result;
}
