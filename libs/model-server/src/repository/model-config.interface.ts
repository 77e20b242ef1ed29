import type { InjectionToken, OptionalFactoryDependency } from '@nestjs/common';
import type { ExecutionOptions } from '../execution/execution-options.interface';
import type { ModelClass, ModelServer } from '../model/model-server';
import type { TensorSpec } from '../model/tensor.interface';

/** `blocking`: load before the server answers; `background`: answer at once, each model ready when loaded. @publicApi */
export type LoadMode = 'blocking' | 'background';

/** One version of a model. Fields left out are taken from the model's own config. @publicApi */
export interface ModelVersionConfig {
  /** The version's name, e.g. `"1"`, `"2"`, `"2024-06"`. */
  version: string;
  /** A different class for this version. */
  model?: ModelClass;
  /** The file and export of this version's own class, for worker threads (see {@link ModelConfig.modulePath}). */
  modulePath?: string;
  className?: string;
  /** This version's files. */
  modelPath?: string;
  /** Merged over the model's parameters. */
  parameters?: Record<string, unknown>;
  /** Merged over the model's labels. */
  labels?: Record<string, string>;
  /** Serve this version when a request names none (else the highest version is the default). */
  default?: boolean;
}

/** One model the server serves; the execution settings (`workers`, `maxBatchSize`...) apply to each version. @publicApi */
export interface ModelConfig extends ExecutionOptions {
  /** The name in `/v2/models/:name`: letters, digits, `_`, `.`, `-`. */
  name: string;
  /**
   * The class that implements it (a {@link ModelServer} subclass). Served in process, it is built by Nest's
   * injector in the module that registers it (`forRoot`'s or `forFeature`'s importer), so an `@Injectable()`
   * class may take constructor dependencies; in worker threads it is built with `new` and must take none.
   */
  model: ModelClass;
  /**
   * Builds each instance instead of the injector (a fresh one per version and per load), from the providers
   * listed in {@link inject}; it must return an instance of {@link model}. In-process models only.
   */
  useFactory?: (...deps: never[]) => ModelServer | Promise<ModelServer>;
  /** The providers {@link useFactory} receives, in order, resolved in the module that registers the model. */
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  /**
   * The file that exports the class and the export's name, for executors that load the model again in
   * worker threads (`workers: N`). The CLI fills both from the config's `module` and `class`.
   */
  modulePath?: string;
  className?: string;
  /** The model's files (weights, vocabularies); `context.readFile()` reads under it. */
  modelPath?: string;
  /** Values model code reads with `context.getParam(key, default)`. */
  parameters?: Record<string, unknown>;
  /** Free labels, carried by metadata listings and monitoring records. */
  labels?: Record<string, string>;
  /** Versions; without it the model has one unversioned instance. */
  versions?: ModelVersionConfig[];
  /** Overrides the server's `loadMode` for this model. */
  loadMode?: LoadMode;
  /** Metadata `platform`; defaults to the class's own. */
  platform?: string;
  /** Declared inputs (else the class's own `inputs`), checked before any hook runs. */
  inputs?: TensorSpec[];
  /** Declared outputs (else the class's own `outputs`). */
  outputs?: TensorSpec[];
  /** Requests of this model in flight beyond which new ones answer 503 with `Retry-After` (0 or unset: none). */
  maxInFlight?: number;
  /** Deadline of this model's requests in milliseconds (unless the client's is earlier). */
  timeoutMs?: number;
  /**
   * How long unloading a version (an API unload, a reload retiring the old instance, shutdown, or a model marked
   * failed) waits for the requests already running on it before it releases the instance anyway, in
   * milliseconds (default 30000). New requests meanwhile answer 503 with `Retry-After` (a reload sends them to the
   * new instance instead).
   */
  unloadWaitMs?: number;
  /**
   * For bodies that are not a v2 request at the top level: the dotted path of the request inside the body
   * (MLRun's `input_path`), e.g. `"data.request"`.
   */
  inputPath?: string;
  /**
   * Writes the response into the original body at this dotted path and answers the whole body
   * (MLRun's `result_path`), e.g. `"result"`.
   */
  resultPath?: string;
}
