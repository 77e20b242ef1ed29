import type { InferenceSession } from 'onnxruntime-node';

/**
 * The ONNX Runtime settings a model's config may set under `parameters.onnx`. Thread counts default to 1:
 * on small machines more intra-op threads spin every core and take the HTTP loop's CPU; scale with
 * `workers` instead.
 *
 * @publicApi
 */
export interface OnnxSettings {
  /** The model file under `modelPath` (default `model.onnx`). */
  file?: string;
  /** Threads of one operator (default 1). */
  intraOpNumThreads?: number;
  /** Threads running independent operators in parallel mode (default 1). */
  interOpNumThreads?: number;
  /** Graph optimizations (default `all`). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
  /** `sequential` (default) or `parallel`. */
  executionMode?: 'sequential' | 'parallel';
  /** Use ONNX Runtime's CPU memory arena (default true). */
  enableCpuMemArena?: boolean;
  /** Pre-plan memory for fixed shapes (default true). */
  enableMemPattern?: boolean;
  /** ONNX Runtime's log level, 0 (verbose) to 4 (fatal); default 2 (warning). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

/** The default model file name. @publicApi */
export const DEFAULT_ONNX_FILE = 'model.onnx';

const LEVELS = ['disabled', 'basic', 'extended', 'layout', 'all'];
const MODES = ['sequential', 'parallel'];

function check(ok: boolean, problems: string[], message: string): void {
  if (!ok) problems.push(message);
}

/**
 * Reads `parameters.onnx` (an object, or absent) into session options with this project's defaults;
 * an unknown key or a bad value is an error that names it.
 *
 * @internal
 */
export function readOnnxSettings(value: unknown, label: string): { file: string; options: InferenceSession.SessionOptions } {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new Error(`model ${label}: parameters.onnx must be an object of ONNX Runtime settings`);
  }
  const s = (value ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  const known = new Set(['file', 'intraOpNumThreads', 'interOpNumThreads', 'graphOptimizationLevel', 'executionMode', 'enableCpuMemArena', 'enableMemPattern', 'logSeverityLevel']);
  for (const key of Object.keys(s)) check(known.has(key), problems, `unknown setting '${key}' (known: ${[...known].join(', ')})`);
  const int = (v: unknown, min: number, max: number) => v === undefined || (Number.isInteger(v) && (v as number) >= min && (v as number) <= max);
  check(s.file === undefined || (typeof s.file === 'string' && s.file !== ''), problems, 'file must be a file name under modelPath');
  check(int(s.intraOpNumThreads, 0, 1024), problems, 'intraOpNumThreads must be an integer ≥ 0 (0: one per core)');
  check(int(s.interOpNumThreads, 0, 1024), problems, 'interOpNumThreads must be an integer ≥ 0 (0: one per core)');
  check(s.graphOptimizationLevel === undefined || LEVELS.includes(s.graphOptimizationLevel as string), problems, `graphOptimizationLevel must be one of ${LEVELS.join(', ')}`);
  check(s.executionMode === undefined || MODES.includes(s.executionMode as string), problems, `executionMode must be one of ${MODES.join(', ')}`);
  check(s.enableCpuMemArena === undefined || typeof s.enableCpuMemArena === 'boolean', problems, 'enableCpuMemArena must be true or false');
  check(s.enableMemPattern === undefined || typeof s.enableMemPattern === 'boolean', problems, 'enableMemPattern must be true or false');
  check(int(s.logSeverityLevel, 0, 4), problems, 'logSeverityLevel must be 0 to 4');
  if (problems.length > 0) throw new Error(`model ${label}: invalid parameters.onnx: ${problems.join('; ')}`);
  const options: InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: (s.intraOpNumThreads as number | undefined) ?? 1,
    interOpNumThreads: (s.interOpNumThreads as number | undefined) ?? 1,
    graphOptimizationLevel: (s.graphOptimizationLevel as OnnxSettings['graphOptimizationLevel']) ?? 'all',
    executionMode: (s.executionMode as OnnxSettings['executionMode']) ?? 'sequential',
  };
  if (s.enableCpuMemArena !== undefined) options.enableCpuMemArena = s.enableCpuMemArena as boolean;
  if (s.enableMemPattern !== undefined) options.enableMemPattern = s.enableMemPattern as boolean;
  if (s.logSeverityLevel !== undefined) options.logSeverityLevel = s.logSeverityLevel as OnnxSettings['logSeverityLevel'];
  return { file: (s.file as string | undefined) ?? DEFAULT_ONNX_FILE, options };
}
