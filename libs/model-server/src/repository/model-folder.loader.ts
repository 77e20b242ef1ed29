import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { MODEL_MODULE_EXTENSIONS, loadModelClass } from '../execution/model-class.loader';
import type { ModelConfig } from './model-config.interface';
import { parseYamlQuietly } from './yaml-text.util';

/** The module a model folder holds, without its extension: `model.js`, `model.cjs` or `model.ts`. */
const MODEL_MODULE = 'model';

/** The optional descriptor beside the module. */
const DESCRIPTORS = ['model.yaml', 'model.yml'];

/**
 * What `model.yaml` may set: the class, where the files are, the model's config (parameters, labels, declared
 * tensors, limits) and its execution settings. Everything else in a {@link ModelConfig} is the server's.
 */
const DESCRIPTOR_KEYS = [
  'name',
  'module',
  'class',
  'modelPath',
  'parameters',
  'labels',
  'platform',
  'inputs',
  'outputs',
  'loadMode',
  'maxInFlight',
  'timeoutMs',
  'unloadWaitMs',
  'inputPath',
  'resultPath',
  'workers',
  'maxBatchSize',
  'maxLatencyMs',
  'maxQueue',
  'loadInMainThread',
  'workerKillGraceMs',
] as const;

/** The contents of a model folder's `model.yaml`. @internal */
export type ModelFolderDescriptor = Partial<Omit<ModelConfig, 'model' | 'versions' | 'modulePath' | 'className'>> & {
  /** The module, relative to the folder (default `model`: `model.js`, `model.cjs` or `model.ts`). */
  module?: string;
  /** The exported ModelServer subclass (default: the module's only one). */
  class?: string;
};

/** How {@link loadModelFolder} names and completes the model. @internal */
export interface ModelFolderOptions {
  /** The served name; over the descriptor's `name`, which is over the folder's own name. */
  name?: string;
  /** Merged over the descriptor's parameters. */
  parameters?: Record<string, unknown>;
}

/**
 * True when a folder looks like a model folder: it holds `model.js`, `model.cjs`, `model.ts` or a `model.yaml`
 * (which may name another module). The CLI tells a single-model folder from other folders with it.
 *
 * @internal
 */
export function isModelFolder(folder: string): boolean {
  const candidates = [...MODEL_MODULE_EXTENSIONS.map((ext) => MODEL_MODULE + ext), ...DESCRIPTORS];
  return candidates.some((name) => existsSync(join(folder, name)));
}

/** A model folder's descriptor, checked: an object of known keys, the names and paths as strings. */
function readDescriptor(folder: string): ModelFolderDescriptor {
  const file = DESCRIPTORS.map((name) => join(folder, name)).find((path) => existsSync(path));
  if (file === undefined) return {};
  let parsed: unknown;
  try {
    parsed = parseYamlQuietly(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file} must hold an object of model settings`);
  const problems: string[] = [];
  const known: readonly string[] = DESCRIPTOR_KEYS;
  for (const key of Object.keys(parsed)) {
    if (!known.includes(key)) problems.push(`unknown key "${key}" (known: ${DESCRIPTOR_KEYS.join(', ')})`);
  }
  const descriptor = parsed as Record<string, unknown>;
  for (const key of ['name', 'module', 'class', 'modelPath', 'platform'] as const) {
    if (descriptor[key] !== undefined && typeof descriptor[key] !== 'string') problems.push(`"${key}" must be a string`);
  }
  for (const key of ['parameters', 'labels'] as const) {
    const value = descriptor[key];
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) problems.push(`"${key}" must be a map`);
  }
  if (problems.length > 0) throw new Error(`${file}:\n  - ${problems.join('\n  - ')}`);
  return descriptor as ModelFolderDescriptor;
}

/**
 * Reads a model folder, the unit a model is deployed as (a KServe `/mnt/models` storage, a folder mounted into
 * the container, a SageMaker multi-model `url`): a module `model.ts` or `model.js` exporting one `ModelServer`
 * subclass, its files beside it, and an optional `model.yaml` (class, parameters, labels, declared inputs and
 * outputs, limits, execution settings such as `workers`). The class is loaded now (the module may live anywhere:
 * it resolves `nest-model-server` and the server's packages, its own `node_modules` first); the model itself
 * loads when the repository loads the returned entry, with the folder (or the descriptor's `modelPath` under it)
 * as its `modelPath`.
 *
 * @param folder the folder, absolute or relative to the working directory
 * @throws Error naming the folder and what is wrong with it (missing, no module, a bad descriptor, a module that
 *   does not load or exports no single ModelServer subclass)
 * @internal
 */
export function loadModelFolder(folder: string, options: ModelFolderOptions = {}): ModelConfig {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`model folder ${dir} does not exist or is not a folder`);
  const { module, class: className, modelPath, name, parameters, ...rest } = readDescriptor(dir);
  const loaded = loadModelClass(join(dir, module ?? MODEL_MODULE), className);
  const config: ModelConfig = {
    ...rest,
    name: options.name ?? name ?? basename(dir),
    model: loaded.model,
    modulePath: loaded.file,
    className: loaded.className,
    modelPath: modelPath === undefined ? dir : resolve(dir, modelPath),
  };
  if (parameters !== undefined || options.parameters !== undefined) config.parameters = { ...parameters, ...options.parameters };
  return config;
}
