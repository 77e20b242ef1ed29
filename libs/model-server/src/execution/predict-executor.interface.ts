import type { InferenceRequest, InferenceResult } from '../model/inference.interface';
import type { ModelServer } from '../model/model-server';
import type { RequestContext } from '../model/request-context';
import type { ModelVersionConfig } from '../repository/model-config.interface';

/**
 * Where a model's `predict` runs: in process, in worker threads, behind a batcher. The data plane only
 * calls {@link run}; the executor owns queues and their limits.
 *
 * @publicApi
 */
export interface PredictExecutor {
  run(request: InferenceRequest, ctx: RequestContext): Promise<InferenceResult>;
  /** Stops taking work and releases threads; pending work finishes or fails. */
  close(): Promise<void>;
}

/** What an executor factory learns about the version it serves. @publicApi */
export interface ExecutorTarget {
  readonly name: string;
  readonly version: string | undefined;
  readonly model: ModelServer;
  readonly predict: (request: InferenceRequest, ctx: RequestContext) => Promise<InferenceResult> | InferenceResult;
  readonly config: Readonly<Record<string, unknown>> & Partial<ModelVersionConfig>;
}

/** Builds the executor of one loaded model version. @publicApi */
export type ExecutorFactory = (target: ExecutorTarget) => PredictExecutor;
