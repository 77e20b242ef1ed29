import { sageMakerHooksInvalid } from '../errors';
import { isModelServerError, type ModelServerError } from '../errors/model-server.error';
import type { ModelServer } from './model-server';
import type { BatchStrategy, SageMakerHooks } from './sagemaker-hooks.interface';

/** A model's SageMaker hooks, bound and checked. @internal */
export interface ResolvedSageMakerHooks {
  readonly ping: (() => unknown) | null;
  readonly input: NonNullable<SageMakerHooks['input']> | null;
  readonly output: NonNullable<SageMakerHooks['output']> | null;
  readonly batchStrategy: BatchStrategy | undefined;
  readonly maxPayloadInMB: number | undefined;
  readonly maxConcurrentTransforms: number | undefined;
}

const STRATEGIES: Readonly<Record<string, BatchStrategy>> = {
  SINGLE_RECORD: 'SINGLE_RECORD',
  MULTI_RECORD: 'MULTI_RECORD',
  SINGLERECORD: 'SINGLE_RECORD',
  MULTIRECORD: 'MULTI_RECORD',
};

function hook<T>(model: Record<string, unknown>, key: string, problems: string[]): T | null {
  const fn = model[key];
  if (fn === undefined || fn === null) return null;
  if (typeof fn !== 'function') {
    problems.push(`'${key}' must be a method`);
    return null;
  }
  return (fn as (...args: unknown[]) => unknown).bind(model) as T;
}

function positiveInteger(model: Record<string, unknown>, key: string, max: number, problems: string[]): number | undefined {
  const v = model[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    problems.push(`'${key}' must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
    return undefined;
  }
  return v;
}

/**
 * Reads a model instance's SageMaker hooks, bound to it, once at load (like its core hooks). Invalid
 * declarations do not fail the load: they are the error (a model error naming them) answered whenever the hooks
 * are needed.
 *
 * @internal
 */
export function resolveSageMakerHooks(model: ModelServer, label: string): ResolvedSageMakerHooks | ModelServerError {
  const m = model as unknown as Record<string, unknown>;
  const problems: string[] = [];
  let batchStrategy: BatchStrategy | undefined;
  if (m.batchStrategy !== undefined && m.batchStrategy !== null) {
    batchStrategy = typeof m.batchStrategy === 'string' ? STRATEGIES[m.batchStrategy.toUpperCase()] : undefined;
    if (batchStrategy === undefined) problems.push(`'batchStrategy' must be 'SINGLE_RECORD' or 'MULTI_RECORD', got ${JSON.stringify(m.batchStrategy)}`);
  }
  const resolved: ResolvedSageMakerHooks = {
    ping: hook(m, 'ping', problems),
    input: hook(m, 'input', problems),
    output: hook(m, 'output', problems),
    batchStrategy,
    maxPayloadInMB: positiveInteger(m, 'maxPayloadInMB', 100, problems),
    maxConcurrentTransforms: positiveInteger(m, 'maxConcurrentTransforms', 1024, problems),
  };
  if (problems.length === 0) return resolved;
  return sageMakerHooksInvalid(label, problems);
}

/** The hooks as resolved at load, or their declaration's problem thrown (a model error naming it). @internal */
export function usableSageMakerHooks(resolved: ResolvedSageMakerHooks | ModelServerError): ResolvedSageMakerHooks {
  if (isModelServerError(resolved)) throw resolved;
  return resolved;
}
