import { inProcessExecutor } from '../../execution';
import { ModelServer, ModelState, type InferenceResult } from '../../model';
import type { MultiModelOptions } from '../../options/sagemaker-options.interface';
import type { ModelConfig } from '../../repository/model-config.interface';
import { ModelRepository } from '../../repository/model-repository';
import { ErrorCode } from '../../errors';
import { MultiModelService } from './multi-model.service';
import { validateSageMakerOptions } from './sagemaker-options.validation';

class Plain extends ModelServer {
  predict(): InferenceResult {
    return { outputs: [] };
  }
}

class Failing extends ModelServer {
  load(): void {
    throw new Error('no weights');
  }
  predict(): InferenceResult {
    return { outputs: [] };
  }
}

let openGate: () => void = () => undefined;
class Gated extends ModelServer {
  load(): Promise<void> {
    return new Promise((resolve) => (openGate = resolve));
  }
  predict(): InferenceResult {
    return { outputs: [] };
  }
}

/** A service over a repository holding one configured model, `configured`; urls name the class to load. */
function setup(settings: MultiModelOptions = {}) {
  const repository = new ModelRepository([{ name: 'configured', model: Plain }], 'blocking', inProcessExecutor);
  const resolve = (name: string, url: string): ModelConfig => {
    if (url === '/plain') return { name, model: Plain };
    if (url === '/failing') return { name, model: Failing };
    if (url === '/gated') return { name, model: Gated };
    throw new Error(`nothing at ${url}`);
  };
  const options = validateSageMakerOptions({ multiModel: { resolve, ...settings } });
  return { repository, service: new MultiModelService(repository, options) };
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (err: { code?: string }) => err.code);

describe('MultiModelService', () => {
  it('is off unless multiModel is set', () => {
    const repository = new ModelRepository([], 'blocking', inProcessExecutor);
    expect(new MultiModelService(repository, validateSageMakerOptions({})).enabled).toBe(false);
    expect(setup().service.enabled).toBe(true);
  });

  it('loads, lists in pages, describes and unloads; the repository forgets the name', async () => {
    const { service, repository } = setup({ pageSize: 2 });
    for (const name of ['c', 'a', 'b']) await service.load({ model_name: name, url: '/plain' });
    expect(repository.get('a', undefined).state).toBe(ModelState.Ready);
    const first = service.list(undefined, undefined);
    expect(first.models.map((m) => m.modelName)).toEqual(['a', 'b']);
    const second = service.list(first.nextPageToken, undefined);
    expect(second).toEqual({ models: [{ modelName: 'c', modelUrl: '/plain' }] });
    expect(service.list(undefined, '3').nextPageToken).toBeUndefined();
    expect(service.describe('b')).toEqual({ modelName: 'b', modelUrl: '/plain' });
    await service.unload('b');
    expect(repository.has('b')).toBe(false);
    expect(() => service.describe('b')).toThrow(expect.objectContaining({ code: ErrorCode.NotFound }));
    // A token of a name that is gone still pages on from where it was.
    expect(service.list(first.nextPageToken, undefined).models.map((m) => m.modelName)).toEqual(['c']);
  });

  it('answers 409 for a loaded or configured name, and the load of a failing model with its reason', async () => {
    const { service, repository } = setup();
    await repository.loadAll();
    await service.load({ model_name: 'a', url: '/plain' });
    expect(await codeOf(service.load({ model_name: 'a', url: '/plain' }))).toBe(ErrorCode.Conflict);
    expect(await codeOf(service.load({ model_name: 'configured', url: '/plain' }))).toBe(ErrorCode.Conflict);
    await expect(service.load({ model_name: 'f', url: '/failing' })).rejects.toMatchObject({ code: ErrorCode.ModelError, message: expect.stringContaining('no weights') });
    expect(repository.has('f')).toBe(false);
    await expect(service.load({ model_name: 'x', url: '/nowhere' })).rejects.toMatchObject({ code: ErrorCode.InvalidRequest, message: expect.stringContaining('nothing at /nowhere') });
    expect(repository.has('x')).toBe(false);
    // Configured models are not the API's to unload.
    expect(await codeOf(service.unload('configured'))).toBe(ErrorCode.NotFound);
    // Server readiness waits for configured models only, not for a model loading at run time.
    expect(repository.isReady()).toBe(true);
    const loading = service.load({ model_name: 'slow', url: '/gated' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(repository.get('slow', undefined).state).toBe(ModelState.Loading);
    expect(repository.isReady()).toBe(true);
    openGate();
    await loading;
    expect(repository.get('slow', undefined).state).toBe(ModelState.Ready);
  });

  it('answers 507 past the count of models (loads under way count) or the resident memory', async () => {
    const { service } = setup({ maxModels: 2 });
    const pending = [service.load({ model_name: 'a', url: '/plain' }), service.load({ model_name: 'b', url: '/plain' })];
    expect(await codeOf(service.load({ model_name: 'c', url: '/plain' }))).toBe(ErrorCode.InsufficientResources);
    await Promise.all(pending);
    await service.unload('a');
    expect(await codeOf(service.load({ model_name: 'c', url: '/plain' }))).toBe('ok');
    const tight = setup({ maxResidentBytes: 1024 }).service;
    await expect(tight.load({ model_name: 'a', url: '/plain' })).rejects.toMatchObject({ code: ErrorCode.InsufficientResources, message: expect.stringContaining('maxResidentBytes') });
  });

  it('loads a name once for concurrent requests, and an unload waits for a load under way', async () => {
    const { service, repository } = setup();
    const [a, b] = await Promise.all([service.load({ model_name: 'a', url: '/plain' }), service.load({ model_name: 'a', url: '/plain' })]);
    expect(a).toBe(b);
    const loading = service.load({ model_name: 'z', url: '/plain' });
    await service.unload('z');
    await loading;
    expect(repository.has('z')).toBe(false);
  });

  it('refuses malformed bodies, limits and tokens (400)', async () => {
    const { service } = setup();
    for (const body of [null, [], 'x', { model_name: 'a' }, { url: '/plain' }, { model_name: '../a', url: '/plain' }, { model_name: 'a', url: ' ' }]) {
      expect(await codeOf(service.load(body))).toBe(ErrorCode.InvalidRequest);
    }
    for (const limit of ['0', '-1', '1001', 'x', '1.5']) expect(() => service.list(undefined, limit)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidRequest }));
    for (const token of ['%%', 'Lw', '!']) expect(() => service.list(token, undefined)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidRequest }));
  });
});
