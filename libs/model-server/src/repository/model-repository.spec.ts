import { inProcessExecutor } from '../execution';
import { ModelServer, ModelState, type InferenceResult } from '../model';
import { ModelRepository } from './model-repository';

class Plain extends ModelServer {
  predict(): InferenceResult {
    return { outputs: [] };
  }
}

let loads = 0;
class Counted extends ModelServer {
  generation = 0;
  async load(): Promise<void> {
    this.generation = ++loads;
  }
  predict(): InferenceResult {
    return { outputs: [] };
  }
}

const repo = (configs: ConstructorParameters<typeof ModelRepository>[0]) => new ModelRepository(configs, 'blocking', inProcessExecutor);

describe('ModelRepository', () => {
  it('the default version is the highest, numerically', () => {
    const r = repo([{ name: 'm', model: Plain, versions: [{ version: '9' }, { version: '10' }, { version: '2' }] }]);
    expect(r.get('m', undefined).version).toBe('10');
    expect([...r.entry('m').versions.keys()]).toEqual(['2', '9', '10']);
  });

  it('a version marked default wins', () => {
    const r = repo([{ name: 'm', model: Plain, versions: [{ version: '1', default: true }, { version: '2' }] }]);
    expect(r.get('m', '').version).toBe('1');
  });

  it.each([
    [[{ name: 'a', model: Plain }, { name: 'a', model: Plain }], /configured twice/],
    [[{ name: 'a', model: Plain, versions: [{ version: '1' }, { version: '1' }] }], /lists version '1' twice/],
    [[{ name: 'a', model: Plain, versions: [{ version: '1', default: true }, { version: '2', default: true }] }], /more than one version as default/],
  ])('refuses an inconsistent configuration (%#)', (configs, message) => {
    expect(() => repo(configs)).toThrow(message);
  });

  it('unknown models and versions are 404s naming what exists', () => {
    const r = repo([{ name: 'm', model: Plain, versions: [{ version: '1' }] }]);
    expect(() => r.get('x', undefined)).toThrow(/model 'x' is not served here/);
    expect(() => r.get('m', '3')).toThrow(/model 'm' has no version '3'; its versions are '1'/);
  });

  it('strict readiness: ready only once every version is ready; shutdown turns it off', async () => {
    const r = repo([{ name: 'm', model: Plain }, { name: 'n', model: Plain, versions: [{ version: '1' }] }]);
    expect(r.isReady()).toBe(false);
    await r.loadAll();
    expect(r.isReady()).toBe(true);
    r.beginShutdown();
    expect(r.isReady()).toBe(false);
  });

  it('a reload swaps in the new instance only once it has loaded; unload runs the hook and leaves it unloaded', async () => {
    const r = repo([{ name: 'c', model: Counted }]);
    await r.loadAll();
    const mv = r.get('c', undefined);
    const first = mv.instance as Counted;
    const reloading = r.load('c');
    expect(mv.state).toBe(ModelState.Ready);
    expect(mv.instance).toBe(first);
    await reloading;
    expect((mv.instance as Counted).generation).toBe(first.generation + 1);
    await r.unload('c');
    expect(mv.state).toBe(ModelState.Unloaded);
    expect(mv.instance).toBeNull();
    expect(r.isReady()).toBe(true); // an explicitly unloaded model is not expected any more
  });

  it('an unload refuses new requests at once and releases the instance only once the requests inside have left', async () => {
    const r = repo([{ name: 'c', model: Counted, unloadWaitMs: 10_000 }]);
    await r.loadAll();
    const mv = r.get('c', undefined);
    const serving = mv.tryAdmit();
    const unloading = r.unload('c');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(mv.state).toBe(ModelState.Unloading);
    expect(() => mv.tryAdmit()).toThrow(/model 'c' is not ready \(unloading\)/);
    expect(mv.notReady().retryAfterSeconds).toBe(1);
    expect(serving.instance).toBeInstanceOf(Counted); // the request keeps its instance
    mv.release(serving);
    await unloading;
    expect(mv.state).toBe(ModelState.Unloaded);
    expect(mv.inFlight).toBe(0);
  });

  it('counts requests against maxInFlight', async () => {
    const r = repo([{ name: 'c', model: Plain, maxInFlight: 1 }]);
    await r.loadAll();
    const mv = r.get('c', undefined);
    const first = mv.tryAdmit();
    expect(() => mv.tryAdmit()).toThrow(/model 'c' already has 1 requests in flight/);
    mv.release(first);
    mv.release(mv.tryAdmit());
  });
});
