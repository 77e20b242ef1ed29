import { Logger } from '@nestjs/common';
import { NO_OBSERVER, type ExecutorFactory, type ExecutorObserver, type PredictExecutor } from '../execution/predict-executor.interface';
import { ModelContext } from '../model/model-context';
import { resolveHooks, type ModelHooks } from '../model/model-hooks';
import type { ModelCaller } from '../model/model-caller.interface';
import { attachContext, type ModelClass, type ModelServer } from '../model/model-server';
import { ModelState } from '../model/model-state.enum';
import { declaredOperations } from '../model/operation.decorator';
import type { TensorSpec } from '../model/tensor.interface';
import type { LoadMode } from './model-config.interface';

/** Everything one version needs to load, its model's and its own config merged. @internal */
export interface ResolvedVersionConfig {
  name: string;
  version: string | undefined;
  model: ModelClass;
  modelPath: string | undefined;
  parameters: Record<string, unknown>;
  labels: Record<string, string>;
  loadMode: LoadMode;
  platform: string | undefined;
  inputs: TensorSpec[] | undefined;
  outputs: TensorSpec[] | undefined;
  /** The whole config entry, for executors that read their own keys (workers, batching). */
  raw: Readonly<Record<string, unknown>>;
}

/**
 * One model version and its lifecycle: `loading → ready | failed`, `ready → unloading → unloaded`.
 * A failed load keeps its error for readiness, metadata and every request's 503.
 *
 * @internal
 */
export class ModelVersion {
  state: ModelState = ModelState.Loading;
  /** Why the last load failed. */
  error: string | undefined = undefined;
  instance: ModelServer | null = null;
  hooks: ModelHooks | null = null;
  executor: PredictExecutor | null = null;
  operations: ReadonlyMap<string, string | symbol> = new Map();
  inputs: TensorSpec[] | undefined;
  outputs: TensorSpec[] | undefined;
  platform: string;
  /** Class name of the instance (monitoring records carry it). */
  readonly className: string;
  /** `'iris'` or `'iris' version '2'`, for messages. */
  readonly label: string;
  /** Epoch ms when the current state began. */
  stateSince = Date.now();
  loadDurationMs: number | undefined = undefined;
  /** Whether the server expects this version loaded (false after an explicit unload). */
  wanted = true;
  /** Requests of this version in the data plane now. */
  inFlight = 0;
  /** Its limit of requests in flight (`maxInFlight` in its config; 0: none). */
  readonly maxInFlight: number;
  /** Its own deadline for every request in milliseconds (`timeoutMs` in its config; 0: none). */
  readonly timeoutMs: number;
  private loading: Promise<void> | null = null;
  /** Whether `instance.load()` ran in this thread (not when worker threads load the model instead). */
  private instanceLoaded = false;

  constructor(
    readonly config: ResolvedVersionConfig,
    private readonly createExecutor: ExecutorFactory,
    private readonly caller: () => ModelCaller | undefined = () => undefined,
    private readonly observer: () => ExecutorObserver = () => NO_OBSERVER,
  ) {
    this.label = config.version === undefined ? `'${config.name}'` : `'${config.name}' version '${config.version}'`;
    this.className = config.model.name;
    this.inputs = config.inputs;
    this.outputs = config.outputs;
    this.platform = config.platform ?? 'nest-model-server';
    this.maxInFlight = typeof config.raw.maxInFlight === 'number' ? config.raw.maxInFlight : 0;
    this.timeoutMs = typeof config.raw.timeoutMs === 'number' ? config.raw.timeoutMs : 0;
  }

  get name(): string {
    return this.config.name;
  }

  get version(): string | undefined {
    return this.config.version;
  }

  /** Loads (or reloads) the version. Never rejects: a failure leaves the version `failed` with its error. */
  load(): Promise<void> {
    this.loading ??= this.doLoad().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async doLoad(): Promise<void> {
    const logger = new Logger(`model ${this.label}`);
    const started = performance.now();
    const previous =
      this.state === ModelState.Ready ? { instance: this.instance, executor: this.executor, loaded: this.instanceLoaded } : null;
    if (previous === null) this.setState(ModelState.Loading);
    this.wanted = true;
    let instance: ModelServer | null = null;
    let executor: PredictExecutor | null = null;
    let instanceLoaded = false;
    try {
      instance = new this.config.model();
      attachContext(
        instance,
        new ModelContext({
          name: this.config.name,
          version: this.config.version,
          modelPath: this.config.modelPath,
          parameters: this.config.parameters,
          labels: this.config.labels,
          logger,
          caller: this.caller(),
        }),
      );
      const hooks = resolveHooks(instance);
      // The executor comes first: one that runs predict in worker threads loads the model there, and this
      // thread's instance then only serves metadata and the other hooks (unless loadInMainThread is set).
      executor = this.createExecutor({
        name: this.config.name,
        version: this.config.version,
        model: instance,
        predict: hooks.predict,
        config: this.config.raw,
        observer: this.observer(),
      });
      if (executor.loadsModel !== true) {
        instanceLoaded = true;
        await instance.load();
      }
      if (executor.start !== undefined) await executor.start();
      // A reload swaps in the new instance only once it loaded; the old one keeps serving until then.
      this.instance = instance;
      this.instanceLoaded = instanceLoaded;
      this.hooks = hooks;
      this.executor = executor;
      this.operations = declaredOperations(instance);
      this.inputs = this.config.inputs ?? instance.inputs;
      this.outputs = this.config.outputs ?? instance.outputs;
      this.platform = this.config.platform ?? instance.platform;
      this.error = undefined;
      this.loadDurationMs = performance.now() - started;
      this.setState(ModelState.Ready);
      logger.log(`ready in ${this.loadDurationMs.toFixed(0)} ms`);
      if (previous !== null) await release(previous.instance, previous.executor, logger, previous.loaded);
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      this.loadDurationMs = performance.now() - started;
      logger.error(`load failed: ${this.error}`);
      if (previous === null) this.setState(ModelState.Failed);
      if (instance !== null) await release(instance, executor, logger, instanceLoaded);
    }
  }

  /** Unloads the version: stops its executor and runs the model's `unload` hook. */
  async unload(): Promise<void> {
    if (this.loading !== null) await this.loading;
    this.wanted = false;
    if (this.state !== ModelState.Ready && this.state !== ModelState.Failed) return;
    const logger = new Logger(`model ${this.label}`);
    this.setState(ModelState.Unloading);
    await release(this.instance, this.executor, logger, this.instanceLoaded);
    this.instance = null;
    this.instanceLoaded = false;
    this.hooks = null;
    this.executor = null;
    this.setState(ModelState.Unloaded);
  }

  private setState(state: ModelState): void {
    this.state = state;
    this.stateSince = Date.now();
  }
}

/** Closes the executor, then runs `unload` on the instance if it was loaded in this thread. */
async function release(instance: ModelServer | null, executor: PredictExecutor | null, logger: Logger, loaded: boolean): Promise<void> {
  try {
    if (executor !== null) await executor.close();
    if (instance !== null && loaded) await instance.unload();
  } catch (err) {
    logger.error(`unload failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
