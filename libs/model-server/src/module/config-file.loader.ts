import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { loadModelClass } from '../execution/model-class.loader';
import { ModelServer } from '../model/model-server';
import type { LoadMode, ModelConfig, ModelVersionConfig } from '../repository/model-config.interface';
import { loadModelFolder } from '../repository/model-folder.loader';
import { parseYamlQuietly } from '../repository/yaml-text.util';
import { checkRouterMembers, routerClass } from '../routing/router-config.util';
import type { ModelRegistration } from './model-registrations';

/** One entry of a config file's `models` list (the CLI's `models.yaml`). @internal */
export type ConfigFileModel = Omit<ModelConfig, 'model' | 'versions'> & {
  module?: string;
  class?: string;
  /** A built-in router (`VotingEnsemble`, `ParallelRun`, `TrafficSplit`) in place of module / class. */
  router?: string;
  /** A model folder (`model.ts` / `model.js`, its files, an optional `model.yaml`) in place of module / class. */
  folder?: string;
  versions?: (Omit<ModelVersionConfig, 'model'> & { module?: string; class?: string })[];
  [key: string]: unknown;
};

/** A config file as read: its `models` list and, beside it, the server's settings (the CLI reads those). @internal */
export interface ConfigFileContents {
  models?: unknown[];
  [key: string]: unknown;
}

/**
 * The config file each model entry was read from. Kept beside the entries rather than in them, so an entry stays
 * a plain {@link ModelConfig}: boot-time messages name the file, and the routers' member check knows which
 * entries it applies to (the file's, as the CLI has always checked them).
 */
const SOURCE_FILE = new WeakMap<ModelConfig, string>();

/** The config file a model entry was read from, if it was. @internal */
export function configFileOf(config: ModelConfig): string | undefined {
  return typeof config === 'object' && config !== null ? SOURCE_FILE.get(config) : undefined;
}

/**
 * Reads a config file, JSON (`.json`) or YAML: an object whose `models`, when present, is a list.
 *
 * @throws Error naming the file and what is wrong with it
 * @internal
 */
export function readConfigFile(path: string): ConfigFileContents {
  const json = /\.json$/i.test(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = json ? JSON.parse(text) : parseYamlQuietly(text);
  } catch (err) {
    throw new Error(`the config file ${path} is not valid ${json ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`the config file ${path} must hold an object with a "models" list`);
  }
  const file = parsed as ConfigFileContents;
  if (file.models !== undefined && !Array.isArray(file.models)) throw new Error(`${path}: "models" must be a list`);
  return file;
}

/** A class standing in for a model that cannot be built: the model shows as failed, with the reason. */
function unloadable(reason: string): ModelConfig['model'] {
  return class UnloadableModel extends ModelServer {
    load(): void {
      throw new Error(reason);
    }
    predict(): never {
      throw new Error(reason);
    }
  };
}

function modelClass(
  base: string,
  module: string | undefined,
  className: string | undefined,
  where: string,
): Pick<ModelConfig, 'model' | 'modulePath' | 'className'> {
  if (module === undefined) throw new Error(`${where}: "module" (the file that exports the model class) is required`);
  try {
    const loaded = loadModelClass(resolve(base, module), className);
    return { model: loaded.model, modulePath: loaded.file, className: loaded.className };
  } catch (err) {
    // One model whose module is broken fails alone (its metadata says why); the other models serve.
    return { model: unloadable(`cannot load ${module}: ${(err as Error).message}`), modulePath: resolve(base, module) };
  }
}

/**
 * A model folder's entry (see `loadModelFolder`): the class loaded, the folder as its files; a folder that cannot
 * be read or whose module does not load is a failed model with the reason.
 *
 * @internal
 */
export function modelFolderEntry(folder: string, name: string | undefined): ModelConfig {
  try {
    return loadModelFolder(folder, { name });
  } catch (err) {
    return { name: name ?? basename(folder), model: unloadable(`cannot load model folder ${folder}: ${(err as Error).message}`), modelPath: folder };
  }
}

/**
 * Turns a config file's model entries into model configs: classes loaded (`module`/`class`, `folder`, `router`),
 * paths (`module`, `folder`, `modelPath`, the versions' own) resolved against the file's folder. A module that does
 * not load is a failed model, not an error; a malformed entry is an error naming it.
 *
 * @param file the config file the entries come from, absolute
 * @internal
 */
export function configFileModels(entries: readonly unknown[], file: string): ModelConfig[] {
  const base = dirname(file);
  return entries.map((entry, i) => {
    const m = entry as ConfigFileModel;
    const where = `models[${i}]${typeof m?.name === 'string' ? ` (${m.name})` : ''}`;
    if (typeof m !== 'object' || m === null) throw new Error(`${where} must be an object`);
    const { module, class: className, versions, router, folder, ...rest } = m;
    if ([router, module, folder].filter((v) => v !== undefined).length > 1) {
      throw new Error(`${where}: give one of "module" (your class), "folder" (a model folder) or "router" (a built-in router)`);
    }
    let config: ModelConfig;
    if (folder !== undefined) {
      if (typeof folder !== 'string') throw new Error(`${where}: "folder" must be a path`);
      const fromFolder = modelFolderEntry(resolve(base, folder), typeof m.name === 'string' ? m.name : undefined);
      const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Partial<ModelConfig>;
      config = { ...fromFolder, ...given, name: fromFolder.name };
      if (fromFolder.parameters !== undefined && given.parameters !== undefined) config.parameters = { ...fromFolder.parameters, ...given.parameters };
    } else {
      const implementation = router !== undefined ? { model: routerClass(router) } : modelClass(base, module, className, where);
      config = { ...(rest as Omit<ModelConfig, 'model'>), ...implementation };
    }
    if (typeof m.modelPath === 'string') config.modelPath = resolve(base, m.modelPath);
    if (versions !== undefined) {
      if (!Array.isArray(versions)) throw new Error(`${where}: "versions" must be a list`);
      config.versions = versions.map((v) => {
        const { module: vModule, class: vClass, ...vRest } = v;
        const version: ModelVersionConfig = { ...vRest, version: String(v.version) };
        if (vModule !== undefined) Object.assign(version, modelClass(base, vModule, vClass ?? className, where));
        if (typeof v.modelPath === 'string') version.modelPath = resolve(base, v.modelPath);
        return version;
      });
    }
    SOURCE_FILE.set(config, file);
    return config;
  });
}

/**
 * The models of a config file in the CLI's format (`models.yaml`, or `.json`; see samples/models.yaml), as the CLI
 * serves them, for an application's own `ModelServerModule.forRoot` / `forRootAsync` (or a `forFeature`): each
 * entry's class loaded (`module`/`class`, `folder` or `router`), its paths resolved against the file's folder, and
 * the file's `loadMode` as the default of its models. A model whose module does not load is a failed model with
 * the reason, as in the CLI; routers' members are checked at boot against every model of the application.
 *
 * The file's server settings (ports, `auth`, limits, `monitoring`, `sagemaker`...) are the CLI's: an application
 * sets its own in `forRoot` and the other modules, so they are not read here.
 *
 * @example
 * ModelServerModule.forRoot({ models: [...modelsFromConfig('models.yaml'), { name: 'scorer', model: ScorerModel }] })
 * @param path the file, absolute or relative to the working directory
 * @throws Error naming the file when it cannot be read or is malformed, or naming the entry that is
 * @publicApi
 */
export function modelsFromConfig(path: string): ModelConfig[] {
  const file = resolve(path);
  const contents = readConfigFile(file);
  const models = configFileModels(contents.models ?? [], file);
  // In the CLI the file's loadMode is the server's, so it is the default of each of the file's models; here it
  // stays that, without becoming the default of the application's other models.
  const loadMode = contents.loadMode as LoadMode | undefined;
  if (loadMode !== undefined) for (const model of models) model.loadMode ??= loadMode;
  return models;
}

/**
 * Fails, before anything loads, the config-file routers whose members name no model or version of the
 * application (every module's models, not only the file's: a file's router may call a `forFeature` model). Such a
 * router loads as failed with the reason while the other models serve. Routers given in code are left to answer
 * 404 for a missing member at request time, as they always have.
 *
 * @internal
 */
export function failConfigRoutersWithUnknownMembers(registrations: ModelRegistration[]): ModelRegistration[] {
  if (!registrations.some((r) => configFileOf(r.config) !== undefined)) return registrations;
  // Malformed entries are validateOptions' to report, with every other problem; the check reads well-formed ones.
  const wellFormed = registrations
    .map((r) => r.config)
    .filter((c) => typeof c === 'object' && c !== null && typeof c.name === 'string' && (c.versions === undefined || Array.isArray(c.versions)));
  const problems = checkRouterMembers(wellFormed);
  if (problems.size === 0) return registrations;
  return registrations.map((registration) => {
    const file = configFileOf(registration.config);
    const problem = file === undefined ? undefined : problems.get(registration.config.name);
    if (file === undefined || problem === undefined) return registration;
    const model = unloadable(problem);
    const { versions } = registration.config;
    const config: ModelConfig = { ...registration.config, model };
    if (versions !== undefined) config.versions = versions.map((v) => (v?.model === undefined ? v : { ...v, model }));
    SOURCE_FILE.set(config, file);
    return { ...registration, config };
  });
}
