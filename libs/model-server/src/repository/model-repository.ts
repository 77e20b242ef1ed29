import { Logger } from '@nestjs/common';
import { NO_OBSERVER, type ExecutorFactory, type ExecutorObserver } from '../execution/predict-executor.interface';
import type { ModelCaller } from '../model/model-caller.interface';
import { ModelState } from '../model/model-state.enum';
import type { LoadMode, ModelConfig } from './model-config.interface';
import { constructModel, ModelVersion, type ModelBuilder, type ResolvedVersionConfig } from './model-version';
import { compareVersions } from './version-order.util';
import { modelNotFound, versionNotFound } from '../errors';

/** A model and its versions. @internal */
export interface ModelEntry {
  readonly name: string;
  readonly config: ModelConfig;
  /** Named versions, in ascending order; empty for an unversioned model. */
  readonly versions: ReadonlyMap<string, ModelVersion>;
  /** The version served when a request names none. */
  readonly defaultVersion: ModelVersion;
  /** Every version, unversioned included. */
  readonly all: readonly ModelVersion[];
}

/**
 * The registry: model name → versions → instance, default version, load and unload, readiness.
 * It never serves requests; the data plane asks it for a version.
 *
 * @internal
 */
export class ModelRepository {
  private readonly logger = new Logger('ModelRepository');
  private readonly models = new Map<string, ModelEntry>();
  /** Models added at run time ({@link add}): server readiness does not wait for them, and they can be removed. */
  private readonly added = new Set<string>();
  private shuttingDown = false;
  private readinessWithdrawn = false;
  /** Epoch ms by which shutdown wants every model released (set by whoever knows the grace period). */
  private shutdownDeadline: number | undefined;
  private readonly gates: (() => boolean)[] = [];
  private caller: ModelCaller | undefined;
  private readonly callerRef = (): ModelCaller | undefined => this.caller;
  private observer: ExecutorObserver = NO_OBSERVER;
  private readonly observerRef = (): ExecutorObserver => this.observer;

  constructor(
    configs: readonly ModelConfig[],
    private readonly defaultLoadMode: LoadMode,
    private readonly createExecutor: ExecutorFactory,
    /** Builds each version's instance (the module's asks Nest's injector). */
    private readonly build: ModelBuilder = constructModel,
  ) {
    for (const config of configs) this.register(config);
  }

  private register(config: ModelConfig): void {
    if (this.models.has(config.name)) throw new Error(`model '${config.name}' is configured twice`);
    const all: ModelVersion[] = [];
    const versions = new Map<string, ModelVersion>();
    let defaultVersion: ModelVersion | undefined;
    if (config.versions === undefined || config.versions.length === 0) {
      defaultVersion = new ModelVersion(this.resolve(config, undefined), this.createExecutor, this.callerRef, this.observerRef, this.build);
      all.push(defaultVersion);
    } else {
      const sorted = [...config.versions].sort((a, b) => compareVersions(a.version, b.version));
      for (const v of sorted) {
        if (versions.has(v.version)) throw new Error(`model '${config.name}' lists version '${v.version}' twice`);
        const mv = new ModelVersion(this.resolve(config, v.version), this.createExecutor, this.callerRef, this.observerRef, this.build);
        versions.set(v.version, mv);
        all.push(mv);
      }
      const marked = sorted.filter((v) => v.default === true);
      if (marked.length > 1) throw new Error(`model '${config.name}' marks more than one version as default`);
      defaultVersion = versions.get(marked.length === 1 ? marked[0].version : sorted[sorted.length - 1].version);
    }
    this.models.set(config.name, { name: config.name, config, versions, defaultVersion: defaultVersion!, all });
  }

  private resolve(config: ModelConfig, version: string | undefined): ResolvedVersionConfig {
    const own = config.versions?.find((v) => v.version === version);
    return {
      name: config.name,
      version,
      model: own?.model ?? config.model,
      modelPath: own?.modelPath ?? config.modelPath,
      parameters: { ...(config.parameters ?? {}), ...(own?.parameters ?? {}) },
      labels: { ...(config.labels ?? {}), ...(own?.labels ?? {}) },
      loadMode: config.loadMode ?? this.defaultLoadMode,
      platform: config.platform,
      inputs: config.inputs,
      outputs: config.outputs,
      raw: { ...(config as unknown as Record<string, unknown>), ...(own ?? {}) },
    };
  }

  /**
   * Loads every model: blocking ones are awaited, background ones load while the server already answers.
   * A failed load never stops the others.
   */
  async loadAll(): Promise<void> {
    const blocking: Promise<void>[] = [];
    for (const mv of this.versions()) {
      const done = mv.load();
      if (mv.config.loadMode === 'blocking') blocking.push(done);
    }
    await Promise.all(blocking);
    const failed = [...this.versions()].filter((mv) => mv.state === ModelState.Failed);
    if (failed.length > 0) {
      this.logger.warn(`${failed.length} model version(s) failed to load: ${failed.map((mv) => mv.label).join(', ')}`);
    }
  }

  /** Gives models loaded from now on a way to call other models (the data plane sets it). */
  setCaller(caller: ModelCaller): void {
    this.caller = caller;
  }

  /** Where executors created from now on report queues and batches (metrics set it before models load). */
  setExecutorObserver(observer: ExecutorObserver): void {
    this.observer = observer;
  }

  /** The model `name`, or a 404. */
  entry(name: string): ModelEntry {
    const entry = this.models.get(name);
    if (entry === undefined) throw modelNotFound(name);
    return entry;
  }

  /** The version a request addresses (the default one when `version` is undefined or empty), or a 404. */
  get(name: string, version: string | undefined): ModelVersion {
    const entry = this.models.get(name);
    if (entry === undefined) throw modelNotFound(name);
    if (version === undefined || version === '') return entry.defaultVersion;
    const mv = entry.versions.get(version);
    if (mv === undefined) throw versionNotFound(name, version, [...entry.versions.keys()]);
    return mv;
  }

  has(name: string): boolean {
    return this.models.has(name);
  }

  entries(): IterableIterator<ModelEntry> {
    return this.models.values();
  }

  *versions(): IterableIterator<ModelVersion> {
    for (const entry of this.models.values()) yield* entry.all;
  }

  /**
   * Strict readiness: every version the server expects loaded is ready, no shutdown has begun, and every
   * readiness gate agrees (e.g. all processes of a cluster are ready).
   */
  isReady(): boolean {
    if (!this.isLocallyReady()) return false;
    for (const gate of this.gates) if (!gate()) return false;
    return true;
  }

  /** Readiness of this process alone, gates left out; models added at run time do not count. */
  isLocallyReady(): boolean {
    if (this.readinessOff) return false;
    for (const mv of this.versions()) {
      if (mv.wanted && mv.state !== ModelState.Ready && !this.added.has(mv.name)) return false;
    }
    return true;
  }

  /**
   * Registers a model at run time (not loaded yet: {@link load} it). Server readiness does not wait for it, and
   * {@link remove} takes it away again. A name already served is an error.
   */
  add(config: ModelConfig): ModelEntry {
    if (this.shuttingDown) throw new Error(`model '${config.name}' cannot be added: the server is shutting down`);
    this.register(config);
    this.added.add(config.name);
    return this.entry(config.name);
  }

  /** True when `name` was added at run time (and not removed since). */
  isAdded(name: string): boolean {
    return this.added.has(name);
  }

  /**
   * Unloads a model added at run time (new requests answer 503 at once, running ones finish first, each version
   * waiting up to its `unloadWaitMs`), then forgets it: requests naming it are 404s from then on.
   */
  async remove(name: string): Promise<void> {
    const entry = this.entry(name);
    if (!this.added.has(name)) throw new Error(`model '${name}' is configured, not added at run time: it cannot be removed`);
    await Promise.all(entry.all.map((mv) => mv.unload()));
    if (this.models.get(name) === entry) this.models.delete(name);
    this.added.delete(name);
  }

  /** Adds a condition server readiness also depends on. */
  addReadinessGate(gate: () => boolean): void {
    this.gates.push(gate);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** True once readiness is withdrawn ({@link withdrawReadiness}) or shutdown has begun: every readiness check answers not ready. */
  get readinessOff(): boolean {
    return this.readinessWithdrawn || this.shuttingDown;
  }

  /**
   * Turns readiness off while requests are still taken and served: the start of a shutdown's delay, so that load
   * balancers remove the server before it stops taking work ({@link beginShutdown} follows).
   */
  withdrawReadiness(): void {
    this.readinessWithdrawn = true;
  }

  /**
   * Marks the server as going away: readiness turns false at once. With `deadline` (epoch ms, e.g. the end of
   * the shutdown grace period), {@link unloadAll} waits for running requests no longer than that.
   */
  beginShutdown(deadline?: number): void {
    this.shuttingDown = true;
    if (deadline !== undefined && (this.shutdownDeadline === undefined || deadline < this.shutdownDeadline)) this.shutdownDeadline = deadline;
  }

  /** Loads (or reloads) every version of `name`. */
  async load(name: string): Promise<ModelEntry> {
    const entry = this.entry(name);
    await Promise.all(entry.all.map((mv) => mv.load()));
    return entry;
  }

  /**
   * Unloads every version of `name`: new requests answer 503 at once, running ones finish first (each version
   * waits up to its `unloadWaitMs`).
   */
  async unload(name: string): Promise<ModelEntry> {
    const entry = this.entry(name);
    await Promise.all(entry.all.map((mv) => mv.unload()));
    return entry;
  }

  /**
   * Unloads everything (shutdown); each model's `unload` hook runs once, after the requests still running on it
   * (each version waits up to its `unloadWaitMs`, and not past the deadline given to {@link beginShutdown}).
   */
  async unloadAll(): Promise<void> {
    const left = this.shutdownDeadline === undefined ? Infinity : Math.max(0, this.shutdownDeadline - Date.now());
    await Promise.all(
      [...this.versions()].map((mv) => (left < mv.unloadWaitMs ? mv.unload(left, 'the shutdown grace period') : mv.unload())),
    );
  }
}
