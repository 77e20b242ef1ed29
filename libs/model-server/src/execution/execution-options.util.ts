import {
  DEFAULT_MAX_LATENCY_MS,
  DEFAULT_MAX_QUEUE,
  DEFAULT_WORKER_KILL_GRACE_MS,
  type ExecutionOptions,
  type ResolvedExecutionOptions,
} from './execution-options.interface';

function integer(config: Readonly<Record<string, unknown>>, key: keyof ExecutionOptions, min: number, fallback: number, problems: string[]): number {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    problems.push(`${key} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return fallback;
  }
  return value;
}

/**
 * Reads the execution keys of a model's config (`workers`, `maxBatchSize`, `maxLatencyMs`, `maxQueue`,
 * `loadInMainThread`, `workerKillGraceMs`) with their defaults; one error lists every invalid key.
 *
 * @publicApi
 */
export function readExecutionOptions(config: Readonly<Record<string, unknown>>, label = 'the model'): ResolvedExecutionOptions {
  const problems: string[] = [];
  const workers = integer(config, 'workers', 0, 0, problems);
  const maxBatchSize = integer(config, 'maxBatchSize', 1, 1, problems);
  const maxQueue = integer(config, 'maxQueue', 1, DEFAULT_MAX_QUEUE, problems);
  const workerKillGraceMs = integer(config, 'workerKillGraceMs', 0, DEFAULT_WORKER_KILL_GRACE_MS, problems);
  let maxLatencyMs = DEFAULT_MAX_LATENCY_MS;
  const latency = config.maxLatencyMs;
  if (latency !== undefined && latency !== null) {
    if (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0) {
      problems.push(`maxLatencyMs must be a number of milliseconds ≥ 0, got ${JSON.stringify(latency)}`);
    } else {
      maxLatencyMs = latency;
    }
  }
  const main = config.loadInMainThread;
  if (main !== undefined && main !== null && typeof main !== 'boolean') {
    problems.push(`loadInMainThread must be true or false, got ${JSON.stringify(main)}`);
  }
  if (problems.length > 0) throw new Error(`invalid execution settings for ${label}: ${problems.join('; ')}`);
  return { workers, maxBatchSize, maxLatencyMs, maxQueue, loadInMainThread: main === true, workerKillGraceMs };
}
