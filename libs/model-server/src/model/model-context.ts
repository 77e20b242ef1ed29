import { Buffer } from 'node:buffer';
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { InferenceResponse } from './inference.interface';
import type { ModelCallOptions, ModelCaller, ModelCallRequest } from './model-caller.interface';

/** The logger model code writes to. @publicApi */
export interface ModelLogger {
  log(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
  debug(message: string, ...rest: unknown[]): void;
}

/** What the framework tells a model about itself when it creates it. @publicApi */
export interface ModelContextInit {
  name: string;
  version: string | undefined;
  modelPath: string | undefined;
  parameters: Readonly<Record<string, unknown>>;
  labels: Readonly<Record<string, string>>;
  logger: ModelLogger;
  /** In-process calls to other models, when the model runs inside a server. */
  caller?: ModelCaller;
}

/**
 * A model's view of itself and its configuration, at `this.context` from `load` on.
 *
 * @publicApi
 */
export class ModelContext {
  readonly name: string;
  /** The version this instance serves, or undefined for an unversioned model. */
  readonly version: string | undefined;
  /** The model's files, as configured (`modelPath`), resolved to an absolute path. */
  readonly modelPath: string | undefined;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly logger: ModelLogger;
  /** Model-level metrics set with {@link setMetric}; every monitoring record of this model carries them. */
  readonly metrics: Record<string, number> = {};
  private readonly caller: ModelCaller | undefined;

  constructor(init: ModelContextInit) {
    this.name = init.name;
    this.version = init.version;
    this.modelPath = init.modelPath === undefined ? undefined : resolve(init.modelPath);
    this.parameters = init.parameters;
    this.labels = init.labels;
    this.logger = init.logger;
    this.caller = init.caller;
  }

  /**
   * Calls another model in-process, through the data plane (validation, hooks, monitoring; no HTTP hop).
   * Inside a request prefer `ctx.infer(...)`, which passes on the request's deadline and counts nesting depth.
   */
  infer(name: string, request: ModelCallRequest, options?: ModelCallOptions): Promise<InferenceResponse> {
    if (this.caller === undefined) return Promise.reject(new Error(`model '${this.name}' runs outside a server: no other models to call`));
    return this.caller.infer(name, request, options);
  }

  /** A configured parameter, or `defaultValue` when it is not set. */
  getParam<T = unknown>(key: string, defaultValue?: T): T {
    return (Object.prototype.hasOwnProperty.call(this.parameters, key) ? this.parameters[key] : defaultValue) as T;
  }

  /** Sets a model-level metric (e.g. accuracy at load); it rides on every monitoring record of this model. */
  setMetric(name: string, value: number): void {
    this.metrics[name] = value;
  }

  /**
   * The absolute path of `file` under the model path; refuses paths that leave it. The check is on the path's
   * text: {@link readFile} and {@link readJson} also follow symbolic links and refuse a file whose real path
   * leaves the model path's real path.
   */
  resolveFile(file = ''): string {
    if (this.modelPath === undefined) {
      throw new Error(`model '${this.name}' has no modelPath configured, so it cannot read '${file}'`);
    }
    const full = resolve(this.modelPath, file);
    if (!isInside(this.modelPath, full)) throw new Error(`'${file}' is outside the model path ${this.modelPath}`);
    return full;
  }

  /**
   * The real path of `file` under the model path, symbolic links followed: refused when it leaves the model
   * path's own real path (a link inside the model folder that points outside it).
   */
  async resolveRealFile(file: string): Promise<string> {
    const full = this.resolveFile(file);
    const real = await realpath(full); // first: a missing file is reported by its own name
    const root = await realpath(this.modelPath!);
    if (!isInside(root, real)) throw new Error(`'${file}' leads outside the model path ${this.modelPath} (through a symbolic link)`);
    return real;
  }

  /** Reads a file under the model path (symbolic links may not lead outside it). */
  async readFile(file: string): Promise<Buffer> {
    return readFile(await this.resolveRealFile(file));
  }

  /** Reads and parses a JSON file under the model path. */
  async readJson<T = unknown>(file: string): Promise<T> {
    const text = (await this.readFile(file)).toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`${this.resolveFile(file)} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Whether `path` is `root` or lies below it. */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
