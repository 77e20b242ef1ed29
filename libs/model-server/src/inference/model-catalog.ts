import { ModelState } from '../model/model-state.enum';
import type { TensorSpec } from '../model/tensor.interface';
import type { ModelEntry, ModelRepository } from '../repository/model-repository';
import type { ModelVersion } from '../repository/model-version';
import type { ServerInfo } from './server-info';
import { modelControlDisabled, modelDidNotLoad } from '../errors';

/** `GET /v2` (and gRPC ServerMetadata). @publicApi */
export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

/** `GET /v2/models/:name[/versions/:v]` (and gRPC ModelMetadata). @publicApi */
export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Lifecycle state of the addressed version. */
  state: ModelState;
  /** Why its load failed, when it did. */
  error?: string;
}

/** One version in `GET /v2/models`. @publicApi */
export interface VersionStatus {
  version?: string;
  state: ModelState;
  reason?: string;
}

/** One model in `GET /v2/models`. @publicApi */
export interface ModelListing {
  name: string;
  platform: string;
  default_version?: string;
  versions: VersionStatus[];
  labels?: Record<string, string>;
}

/** One row of the repository index (Triton's model repository extension). @publicApi */
export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  state: 'READY' | 'LOADING' | 'UNAVAILABLE' | 'UNLOADING';
  reason?: string;
}

const TRITON_STATE: Record<ModelState, RepositoryIndexEntry['state']> = {
  [ModelState.Loading]: 'LOADING',
  [ModelState.Ready]: 'READY',
  [ModelState.Failed]: 'UNAVAILABLE',
  [ModelState.Unloading]: 'UNLOADING',
  [ModelState.Unloaded]: 'UNAVAILABLE',
};

/**
 * Server and model facts for every transport: health, metadata, listings, the repository extension.
 *
 * @publicApi
 */
export class ModelCatalog {
  constructor(
    private readonly repository: ModelRepository,
    private readonly info: ServerInfo,
    /** Whether repository load / unload are allowed (`modelControl`); off, they answer 403. */
    private readonly modelControl = true,
  ) {}

  serverMetadata(): ServerMetadata {
    return { name: this.info.name, version: this.info.version, extensions: this.info.extensions };
  }

  /** Liveness: the process answers. Cheap by design. */
  live(): boolean {
    return true;
  }

  /** Strict readiness: every configured model version is ready and no shutdown has begun. */
  ready(): boolean {
    return this.repository.isReady();
  }

  /** Readiness of one model (its default version) or version; unknown ones are a 404. */
  modelReady(name: string, version: string | undefined): boolean {
    const mv = this.repository.get(name, version);
    return mv.state === ModelState.Ready && !this.repository.readinessOff;
  }

  modelMetadata(name: string, version: string | undefined): ModelMetadata {
    const mv = this.repository.get(name, version);
    const entry = this.repository.entry(name);
    const meta: ModelMetadata = {
      name,
      platform: mv.platform,
      inputs: mv.inputs ?? [],
      outputs: mv.outputs ?? [],
      state: mv.state,
    };
    if (entry.versions.size > 0) meta.versions = [...entry.versions.keys()];
    if (mv.error !== undefined) meta.error = mv.error;
    return meta;
  }

  listModels(): { models: ModelListing[] } {
    const models: ModelListing[] = [];
    for (const entry of this.repository.entries()) models.push(listing(entry));
    return { models };
  }

  /** Triton's `POST /v2/repository/index`; `readyOnly` keeps only ready versions. */
  repositoryIndex(readyOnly: boolean): RepositoryIndexEntry[] {
    const rows: RepositoryIndexEntry[] = [];
    for (const mv of this.repository.versions()) {
      if (readyOnly && mv.state !== ModelState.Ready) continue;
      const row: RepositoryIndexEntry = { name: mv.name, state: TRITON_STATE[mv.state] };
      if (mv.version !== undefined) row.version = mv.version;
      if (mv.error !== undefined && mv.state === ModelState.Failed) row.reason = mv.error;
      rows.push(row);
    }
    return rows;
  }

  /** Loads or reloads a model's versions (repository extension); a failed load is reported, not thrown. */
  /**
   * Loads (or reloads) a model. A version that does not end up ready fails the load (503 / UNAVAILABLE naming
   * the model, the version's state and why), the repository extension's answer to a failed load, over every
   * transport.
   */
  async loadModel(name: string): Promise<ModelListing> {
    if (!this.modelControl) throw modelControlDisabled('loaded');
    const loaded = listing(await this.repository.load(name));
    const failed = loaded.versions.find((v) => v.state !== ModelState.Ready);
    if (failed !== undefined) throw modelDidNotLoad(name, failed.version, failed.state, failed.reason);
    return loaded;
  }

  async unloadModel(name: string): Promise<ModelListing> {
    if (!this.modelControl) throw modelControlDisabled('unloaded');
    return listing(await this.repository.unload(name));
  }
}

function listing(entry: ModelEntry): ModelListing {
  const out: ModelListing = {
    name: entry.name,
    platform: entry.defaultVersion.platform,
    versions: entry.all.map(status),
  };
  if (entry.defaultVersion.version !== undefined) out.default_version = entry.defaultVersion.version;
  if (entry.config.labels !== undefined) out.labels = entry.config.labels;
  return out;
}

function status(mv: ModelVersion): VersionStatus {
  const s: VersionStatus = { state: mv.state };
  if (mv.version !== undefined) s.version = mv.version;
  if (mv.error !== undefined && mv.state === ModelState.Failed) s.reason = mv.error;
  return s;
}
