import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { ModelServerError } from '../errors/model-server.error';
import { versionLabel } from '../errors/version-label.util';
import { NO_OBSERVER, type ExecutorFactory, type ExecutorObserver, type PredictExecutor } from '../execution/predict-executor.interface';
import { ModelContext } from '../model/model-context';
import { resolveHooks, type ModelHooks } from '../model/model-hooks';
import type { ModelCaller } from '../model/model-caller.interface';
import { attachContext, type MaybePromise, type ModelClass, type ModelServer } from '../model/model-server';
import { ModelState } from '../model/model-state.enum';
import { declaredOperations } from '../model/operation.decorator';
import { resolveSageMakerHooks } from '../model/sagemaker-hooks';
import type { TensorSpec } from '../model/tensor.interface';
import { LoadedModel } from './loaded-model';
import type { LoadMode } from './model-config.interface';
import { inModelScope, scopeHooks, type ModelScope } from './model-scope';
import { withoutPaths } from './redact-paths.util';
import { modelNotReady, tooManyInFlight } from '../errors';

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
 * Builds a version's instance (a fresh one for each load): `new` by default; the module passes one that asks
 * Nest's injector, so model classes can take constructor dependencies. @internal
 */
export type ModelBuilder = (config: ResolvedVersionConfig) => MaybePromise<ModelServer>;

/** The builder of models outside Nest: `new Model()`. @internal */
export const constructModel: ModelBuilder = (config) => new (config.model as new () => ModelServer)();

/** Default of `unloadWaitMs`: how long an unload waits for the requests running on the version. @publicApi */
export const DEFAULT_UNLOAD_WAIT_MS = 30_000;

/** Seconds a client should wait before retrying a model that is still loading. */
const LOADING_RETRY_AFTER_S = 5;

/** Seconds a client should wait before retrying a model that is unloading (it may come back, or be gone). */
const UNLOADING_RETRY_AFTER_S = 1;

const NO_OPERATIONS: ReadonlyMap<string, string | symbol> = new Map();

/**
 * One model version and its lifecycle: `loading → ready | failed`, `ready → unloading → unloaded`, and
 * `ready → failed` when its code keeps faulting outside requests. A failed load keeps its error for readiness,
 * metadata and every request's 503.
 *
 * Requests are admitted into the version ({@link tryAdmit}) and {@link release}d by it, which counts them; each
 * holds the loaded generation it entered, so an unload or a reload waits for them (up to `unloadWaitMs`) before
 * it releases that instance.
 *
 * @internal
 */
export class ModelVersion implements ModelScope {
  state: ModelState = ModelState.Loading;
  /** Why the version failed (its load, or faults of its code), with file paths shortened: clients see it; logs have the full text. */
  error: string | undefined = undefined;
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
  /** Requests of this version in the data plane now (every generation). */
  private admitted = 0;
  /** Its limit of requests in flight (`maxInFlight` in its config; 0: none). */
  readonly maxInFlight: number;
  /** Its own deadline for every request in milliseconds (`timeoutMs` in its config; 0: none). */
  readonly timeoutMs: number;
  /** How long an unload waits for running requests (`unloadWaitMs` in its config). */
  readonly unloadWaitMs: number;
  /** The generation that takes new requests, from a successful load until it is retired. */
  private current: LoadedModel | null = null;
  private loading: Promise<void> | null = null;
  private unloading: Promise<void> | null = null;
  /** A generation being released in the background (the version was marked failed). */
  private retiring: Promise<void> | null = null;
  private readonly logger: Logger;

  constructor(
    readonly config: ResolvedVersionConfig,
    private readonly createExecutor: ExecutorFactory,
    private readonly caller: () => ModelCaller | undefined = () => undefined,
    private readonly observer: () => ExecutorObserver = () => NO_OBSERVER,
    private readonly build: ModelBuilder = constructModel,
  ) {
    this.label = versionLabel(config.name, config.version);
    this.logger = new Logger(`model ${this.label}`);
    this.className = config.model.name;
    this.inputs = config.inputs;
    this.outputs = config.outputs;
    this.platform = config.platform ?? 'nest-model-server';
    this.maxInFlight = typeof config.raw.maxInFlight === 'number' ? config.raw.maxInFlight : 0;
    this.timeoutMs = typeof config.raw.timeoutMs === 'number' ? config.raw.timeoutMs : 0;
    this.unloadWaitMs = typeof config.raw.unloadWaitMs === 'number' ? config.raw.unloadWaitMs : DEFAULT_UNLOAD_WAIT_MS;
  }

  get name(): string {
    return this.config.name;
  }

  get version(): string | undefined {
    return this.config.version;
  }

  /** The instance serving new requests (null unless loaded). */
  get instance(): ModelServer | null {
    return this.current === null ? null : this.current.instance;
  }

  /** The hooks of the generation serving new requests (null unless loaded). */
  get hooks(): ModelHooks | null {
    return this.current === null ? null : this.current.hooks;
  }

  /** Its custom operations (`@Operation`), by name. */
  get operations(): ReadonlyMap<string, string | symbol> {
    return this.current === null ? NO_OPERATIONS : this.current.operations;
  }

  /** Requests of this version in the data plane now (every generation). */
  get inFlight(): number {
    return this.admitted;
  }

  /** The generation serving new requests, when the version is ready; else its 503. */
  serving(): LoadedModel {
    const serving = this.current;
    if (this.state !== ModelState.Ready || serving === null) throw this.notReady();
    return serving;
  }

  /** The 503 for a request the version cannot take in its current state. */
  notReady(): ModelServerError {
    const retry =
      this.state === ModelState.Loading ? LOADING_RETRY_AFTER_S : this.state === ModelState.Unloading ? UNLOADING_RETRY_AFTER_S : undefined;
    return modelNotReady(this.label, this.state, this.error, retry);
  }

  /**
   * Takes a request in and returns the generation it runs on; the caller must {@link release} it once the
   * request is done. 503 when the version is not ready (loading, unloading, failed) or at its `maxInFlight`.
   */
  tryAdmit(): LoadedModel {
    const serving = this.serving();
    if (this.maxInFlight > 0 && this.admitted >= this.maxInFlight) throw tooManyInFlight(`model ${this.label}`, this.maxInFlight, "the model's maxInFlight");
    this.admitted++;
    serving.enter();
    return serving;
  }

  /**
   * Holds the generation serving new requests for work that is not a request (a health check), so an unload
   * waits for it too; no limit applies. The caller must `leave` the generation once done. 503 when not ready.
   */
  hold(): LoadedModel {
    const serving = this.serving();
    serving.enter();
    return serving;
  }

  /** A request that was admitted is done. */
  release(serving: LoadedModel): void {
    this.admitted--;
    serving.leave();
  }

  /** Loads (or reloads) the version. Never rejects: a failure leaves the version `failed` with its error. */
  load(): Promise<void> {
    this.loading ??= this.doLoad().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async doLoad(): Promise<void> {
    if (this.unloading !== null) await this.unloading;
    const logger = this.logger;
    const started = performance.now();
    const previous = this.state === ModelState.Ready ? this.current : null;
    if (previous === null) this.setState(ModelState.Loading);
    this.wanted = true;
    let instance: ModelServer | null = null;
    let executor: PredictExecutor | null = null;
    let instanceLoaded = false;
    try {
      instance = await inModelScope(this, this.build, this.config);
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
      const hooks = scopeHooks(resolveHooks(instance), this);
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
        await inModelScope(this, loadInstance, instance);
      }
      if (executor.start !== undefined) await executor.start();
      // A reload swaps in the new instance only once it loaded; the old one keeps serving until then.
      const sageMaker = resolveSageMakerHooks(instance, this.label);
      this.current = new LoadedModel(instance, hooks, executor, declaredOperations(instance), sageMaker, instanceLoaded);
      this.inputs = this.config.inputs ?? instance.inputs;
      this.outputs = this.config.outputs ?? instance.outputs;
      this.platform = this.config.platform ?? instance.platform;
      this.error = undefined;
      this.loadDurationMs = performance.now() - started;
      this.setState(ModelState.Ready);
      logger.log(`ready in ${this.loadDurationMs.toFixed(0)} ms`);
      if (previous !== null) await this.retire(previous, this.unloadWaitMs, 'unloadWaitMs', 'the reload');
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.error = withoutPaths(reason);
      this.loadDurationMs = performance.now() - started;
      logger.error(`load failed: ${reason}`);
      if (previous === null) this.setState(ModelState.Failed);
      if (instance !== null) await this.releaseInstance(instance, executor, instanceLoaded);
    }
  }

  /**
   * Unloads the version: new requests answer 503 at once, the running ones get up to `waitMs` (default its
   * `unloadWaitMs`; `limit` names what set it, for the log) to finish, then its executor stops and the model's
   * `unload` hook runs.
   */
  unload(waitMs: number = this.unloadWaitMs, limit = 'unloadWaitMs'): Promise<void> {
    this.unloading ??= this.doUnload(Math.max(0, waitMs), limit).finally(() => {
      this.unloading = null;
    });
    return this.unloading;
  }

  private async doUnload(waitMs: number, limit: string): Promise<void> {
    if (this.loading !== null) await this.loading;
    this.wanted = false;
    if (this.state !== ModelState.Ready && this.state !== ModelState.Failed) return;
    this.setState(ModelState.Unloading);
    const serving = this.current;
    if (serving !== null) await this.retire(serving, waitMs, limit, 'the unload');
    if (this.retiring !== null) await this.retiring;
    this.current = null;
    this.setState(ModelState.Unloaded);
  }

  /**
   * Marks a ready version failed because its code keeps faulting outside requests (see `ModelFaultGuard`):
   * requests answer 503 with `reason`, and the instance is released once the running requests are done.
   * A load (the repository API) brings it back with a new instance.
   */
  markFailed(reason: string): void {
    const serving = this.current;
    if (this.state !== ModelState.Ready || serving === null) return;
    this.error = withoutPaths(reason);
    this.current = null;
    this.setState(ModelState.Failed);
    const retiring = this.retire(serving, this.unloadWaitMs, 'unloadWaitMs', 'marking it failed').finally(() => {
      if (this.retiring === retiring) this.retiring = null;
    });
    this.retiring = retiring;
  }

  /** Waits (up to `waitMs`, set by `limit`) for the requests running on a generation, then releases it. */
  private async retire(serving: LoadedModel, waitMs: number, limit: string, why: string): Promise<void> {
    if (serving.inFlight > 0) {
      this.logger.log(`${why} waits for ${serving.inFlight} request(s) still running (up to ${waitMs} ms, ${limit})`);
      if (!(await serving.drained(waitMs))) {
        this.logger.warn(`${serving.inFlight} request(s) still running after ${waitMs} ms (${limit}): ${why} releases the instance anyway`);
      }
    }
    await this.releaseInstance(serving.instance, serving.executor, serving.loadedHere);
  }

  /** Closes the executor, then runs `unload` on the instance if it was loaded in this thread. */
  private async releaseInstance(instance: ModelServer, executor: PredictExecutor | null, loaded: boolean): Promise<void> {
    try {
      if (executor !== null) await executor.close();
      if (loaded) await inModelScope(this, unloadInstance, instance);
    } catch (err) {
      this.logger.error(`unload failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private setState(state: ModelState): void {
    this.state = state;
    this.stateSince = Date.now();
  }
}

function loadInstance(instance: ModelServer): unknown {
  return instance.load();
}

function unloadInstance(instance: ModelServer): unknown {
  return instance.unload();
}
