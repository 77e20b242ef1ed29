import { Buffer } from 'node:buffer';
import process from 'node:process';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { dirname, sep } from 'node:path';
import { ModelState } from '../../model/model-state.enum';
import type { ResolvedMultiModelOptions, ResolvedSageMakerOptions } from '../../options/sagemaker-options.interface';
import type { ModelConfig } from '../../repository/model-config.interface';
import { ModelRepository } from '../../repository/model-repository';
import { RESOLVED_SAGEMAKER_OPTIONS } from './sagemaker.module-definition';
import {
  invalidRequest,
  isModelServerError,
  modelAlreadyLoaded,
  modelBudgetSpent,
  modelFolderUnusable,
  modelLoadFailed,
  modelNotLoaded,
  modelNotReady,
  versionLabel,
} from '../../errors';

/** A model loaded through `POST /models`, as `GET /models` lists it. @publicApi */
export interface LoadedModelInfo {
  modelName: string;
  modelUrl: string;
}

/** One page of `GET /models`; `nextPageToken` asks for the next one (none: the last page). @publicApi */
export interface LoadedModelPage {
  models: LoadedModelInfo[];
  nextPageToken?: string;
}

/** Names SageMaker may give a model: they appear in paths (`/models/{name}/invoke`), so no `/` and no blanks. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,255}$/;

/** The most models one page may hold, whatever `limit` asks. */
const MAX_PAGE = 1000;

const MIB = 1024 * 1024;

/**
 * SageMaker's multi-model endpoint contract over the model repository, for any transport: loads a model folder
 * at run time under the name SageMaker gives it (409 when that name is loaded, 507 past the budget of models or
 * resident memory, the reason when it does not load, the name then left unloaded), lists the loaded models in
 * pages, and unloads one after its running requests are done. Concurrent loads of one name load it once and give
 * each the same answer. Invocations run through the {@link SageMakerService} like `/invocations`.
 *
 * @publicApi
 */
@Injectable()
export class MultiModelService {
  private readonly logger = new Logger('SageMaker');
  /** Loaded models by name, with their url. */
  private readonly loaded = new Map<string, LoadedModelInfo>();
  /** The folder of each loaded model's module, whose code is dropped from the module cache when it unloads. */
  private readonly codeFolders = new Map<string, string>();
  /** Loads under way, by name: a second request for the name waits for the same one. */
  private readonly loading = new Map<string, Promise<LoadedModelInfo>>();
  /** Unloads under way, by name. */
  private readonly unloading = new Map<string, Promise<LoadedModelInfo>>();

  constructor(
    @Inject(ModelRepository) private readonly repository: ModelRepository,
    @Inject(RESOLVED_SAGEMAKER_OPTIONS) private readonly options: ResolvedSageMakerOptions,
  ) {}

  /** Whether the multi-model mode is on. */
  get enabled(): boolean {
    return this.options.multiModel !== undefined;
  }

  private get settings(): ResolvedMultiModelOptions {
    const settings = this.options.multiModel;
    if (settings === undefined) throw new Error('the SageMaker multi-model mode is off (multiModel in the SageMaker options)');
    return settings;
  }

  /**
   * `POST /models` with `{"model_name", "url"}`: loads the model folder at `url` as `model_name`. Resolves once the
   * model serves requests; rejects with a 400 (bad body, or no usable model at `url`), 409 (the name is loaded or
   * configured), 507 (the budget is spent), 500 (the model's `load` failed: its reason) or 503 (shutting down).
   */
  load(body: unknown): Promise<LoadedModelInfo> {
    let name: string;
    let url: string;
    try {
      ({ name, url } = loadRequest(body));
    } catch (err) {
      return Promise.reject(err);
    }
    const pending = this.loading.get(name);
    if (pending !== undefined) return pending;
    if (this.repository.isShuttingDown) return Promise.reject(modelNotReady(versionLabel(name, undefined), 'shutting down', 'no model loads now'));
    if (this.repository.has(name)) return Promise.reject(modelAlreadyLoaded(name));
    const full = this.budgetSpent();
    if (full !== undefined) return Promise.reject(modelBudgetSpent(name, full));
    const load = this.doLoad(name, url).finally(() => this.loading.delete(name));
    this.loading.set(name, load);
    return load;
  }

  /** `GET /models`: the loaded models in name order, `limit` (default the page size) per page, after `pageToken`. */
  list(pageToken: string | undefined, limit: string | undefined): LoadedModelPage {
    const size = limit === undefined ? this.settings.pageSize : pageLimit(limit);
    const after = pageToken === undefined || pageToken === '' ? undefined : tokenName(pageToken);
    const names = [...this.loaded.keys()].sort();
    const start = after === undefined ? 0 : names.findIndex((n) => n > after);
    const page = start === -1 ? [] : names.slice(start, start + size);
    const result: LoadedModelPage = { models: page.map((n) => this.loaded.get(n)!) };
    if (start !== -1 && start + size < names.length) result.nextPageToken = Buffer.from(page[page.length - 1], 'utf8').toString('base64url');
    return result;
  }

  /** `GET /models/{name}`: the loaded model, or a 404. */
  describe(name: string): LoadedModelInfo {
    const info = this.loaded.get(name);
    if (info === undefined) throw modelNotLoaded(name);
    return info;
  }

  /**
   * `DELETE /models/{name}`: new requests for it answer 503 at once, the running ones finish (up to the model's
   * `unloadWaitMs`), its `unload` hook runs, and the name is gone: requests naming it are 404s from then on.
   */
  async unload(name: string): Promise<LoadedModelInfo> {
    const pending = this.loading.get(name);
    if (pending !== undefined) await pending.catch(() => undefined);
    const under = this.unloading.get(name);
    if (under !== undefined) return under;
    const info = this.describe(name);
    const unload = this.repository
      .remove(name)
      .then(() => info)
      .finally(() => {
        this.loaded.delete(name);
        this.unloading.delete(name);
        const folder = this.codeFolders.get(name);
        this.codeFolders.delete(name);
        if (folder !== undefined) forgetModules(folder);
      });
    this.unloading.set(name, unload);
    return unload;
  }

  /** The model's config from its url (a 400 naming what is wrong), added to the repository and loaded. */
  private async doLoad(name: string, url: string): Promise<LoadedModelInfo> {
    let config: ModelConfig;
    try {
      config = { ...(await this.settings.resolve(name, url)), name };
    } catch (err) {
      if (isModelServerError(err)) throw err;
      throw modelFolderUnusable(name, url, err instanceof Error ? err.message : String(err));
    }
    const entry = this.repository.add(config);
    await this.repository.load(name);
    const failed = entry.all.find((mv) => mv.state !== ModelState.Ready);
    if (failed !== undefined) {
      const reason = failed.error;
      await this.repository.remove(name);
      throw modelLoadFailed(name, reason);
    }
    const info: LoadedModelInfo = { modelName: name, modelUrl: url };
    this.loaded.set(name, info);
    if (config.modulePath !== undefined) this.codeFolders.set(name, dirname(config.modulePath));
    this.logger.log(`model '${name}' loaded from ${url} (${this.loaded.size} loaded)`);
    return info;
  }

  /** What budget a new load would exceed, if any: the number of models, or resident memory. */
  private budgetSpent(): string | undefined {
    const { maxModels, maxResidentBytes } = this.settings;
    const count = this.loaded.size + this.loading.size;
    if (maxModels > 0 && count >= maxModels) return `${count} models are loaded or loading, the limit (maxModels)`;
    if (maxResidentBytes > 0) {
      const rss = process.memoryUsage.rss();
      if (rss >= maxResidentBytes) {
        return `the server's resident memory is ${Math.round(rss / MIB)} MiB, at or past its limit of ${Math.round(maxResidentBytes / MIB)} MiB (maxResidentBytes)`;
      }
    }
    return undefined;
  }
}

/** The name and url of a load request's body, or a 400. */
function loadRequest(body: unknown): { name: string; url: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('the body must be a JSON object {"model_name": "...", "url": "..."}');
  const { model_name: name, url } = body as { model_name?: unknown; url?: unknown };
  if (typeof name !== 'string' || !MODEL_NAME.test(name)) {
    throw invalidRequest('"model_name" must be 1-256 letters, digits, "_", "." or "-", starting with a letter or digit');
  }
  if (typeof url !== 'string' || url.trim() === '') throw invalidRequest('"url" must be the path of the model\'s folder');
  return { name, url };
}

/** A page size from `limit`, or a 400. */
function pageLimit(limit: string): number {
  const n = /^\d{1,4}$/.test(limit) ? Number(limit) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE)) throw invalidRequest(`"limit" must be a whole number from 1 to ${MAX_PAGE}`);
  return n;
}

/** The last name of the previous page, from its token, or a 400. */
function tokenName(token: string): string {
  const name = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!MODEL_NAME.test(name)) throw invalidRequest('"next_page_token" is not a token GET /models gave');
  return name;
}

/**
 * Drops a model folder's own modules from Node's module cache (not its `node_modules`), so that models loaded and
 * unloaded for a long time do not keep every module they ever loaded, and a folder loaded again runs its code as
 * it is now. Instances still running keep their classes. A folder that holds the server itself is left alone.
 */
function forgetModules(folder: string): void {
  const prefix = folder.endsWith(sep) ? folder : folder + sep;
  if (__filename.startsWith(prefix)) return;
  const inPackages = `${sep}node_modules${sep}`;
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(prefix) && !key.includes(inPackages, prefix.length - 1)) delete require.cache[key];
  }
}
