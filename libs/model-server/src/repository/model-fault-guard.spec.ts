import type { LoggerService } from '@nestjs/common';
import { inProcessExecutor } from '../execution';
import { ModelServer, ModelState, RequestContext, type InferenceRequest, type InferenceResult } from '../model';
import { ModelFaultGuard, type FaultAttribution } from './model-fault-guard';
import { ModelRepository } from './model-repository';

/** Where the models below report the faults they leave behind (the process handlers would get them). */
let report: (err: unknown) => void = () => undefined;

/** Leaves a fault behind in a timer, in a promise chain, or in a callback of a timer it set at load. */
class Faulty extends ModelServer {
  load(): void {
    setTimeout(() => report(new Error('fault of a timer set at load')), 0);
  }
  predict(request: InferenceRequest): InferenceResult {
    if (request.parameters?.how === 'timer') setTimeout(() => report(new Error('fault in a timer')), 0);
    if (request.parameters?.how === 'promise') void Promise.resolve().then(() => report(new Error('fault in a promise chain')));
    return { outputs: [] };
  }
}

class Quiet extends ModelServer {
  predict(): InferenceResult {
    return { outputs: [] };
  }
}

/** Two models from one module file: a fault's stack tells them apart by their method frames. */
class Left extends ModelServer {
  predict(): InferenceResult {
    return { outputs: [] };
  }
  broken(): Error {
    return new Error('made in a method of Left');
  }
}

class Right extends ModelServer {
  predict(): InferenceResult {
    return { outputs: [] };
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ModelFaultGuard', () => {
  let now = 1_000_000;
  const lines: string[] = [];
  const logger: LoggerService = { log: () => undefined, warn: () => undefined, error: (m: string) => lines.push(m) };
  // Created first: it turns model scopes on for the versions loaded from now on.
  const guard = new ModelFaultGuard({ logger, now: () => now });
  const seen: FaultAttribution[] = [];
  report = (err) => seen.push(guard.fault(err, 'uncaughtException'));
  let repo: ModelRepository;

  beforeAll(async () => {
    repo = new ModelRepository(
      [
        { name: 'faulty', model: Faulty, modulePath: __filename },
        { name: 'quiet', model: Quiet },
      ],
      'blocking',
      inProcessExecutor,
    );
    await repo.loadAll();
    guard.watch(repo);
    await tick();
  });

  const predict = (how: string) =>
    repo.get('faulty', undefined).hooks!.predict({ id: 'r', inputs: [], parameters: { how } }, new RequestContext('r', 'infer', undefined, undefined));

  it('traces faults of code started by a hook, through timers and promises, to the model (by its scope)', async () => {
    // The timer set in load ran before any fault: scopes were not tracked yet, its stack names the model's file.
    expect(seen).toEqual([{ model: "'faulty'", by: 'stack', markedFailed: false }]);
    seen.length = 0;
    predict('timer');
    predict('promise');
    await tick();
    expect(seen).toEqual([
      { model: "'faulty'", by: 'scope', markedFailed: false },
      { model: "'faulty'", by: 'scope', markedFailed: false },
    ]);
    expect(lines[lines.length - 1]).toMatch(/^model 'faulty' faulted outside a request \(uncaughtException; 3 of 5 within 60 s before it is marked failed; traced by its scope\): Error: fault in a timer/);
  });

  it('traces a fault outside any scope by the model module file in its stack, and leaves the rest to the server', () => {
    expect(guard.fault(new Error('thrown from the module file of faulty'), 'unhandledRejection')).toEqual({ model: "'faulty'", by: 'stack', markedFailed: false });
    expect(guard.fault('a bare string', 'unhandledRejection')).toEqual({ model: undefined, by: 'none', markedFailed: false });
    expect(lines[lines.length - 1]).toMatch(/^a fault \(unhandledRejection\) escaped code that no model could be traced to; the server keeps running.*a non-error value was thrown or rejected: a bare string/);
  });

  it('marks the model failed at the 5th fault within the window; its requests then answer 503', () => {
    const mv = repo.get('faulty', undefined);
    expect(mv.state).toBe(ModelState.Ready);
    expect(guard.fault(new Error('fifth'), 'uncaughtException')).toEqual({ model: "'faulty'", by: 'stack', markedFailed: true });
    expect(mv.state).toBe(ModelState.Failed);
    expect(lines[lines.length - 1]).toMatch(/fault 5 of 5 within 60 s: the model is marked failed/);
    expect(() => mv.tryAdmit()).toThrow(/model 'faulty' is not ready \(failed\): its code faulted 5 times within 60 s outside its requests/);
    expect(repo.isReady()).toBe(false);
    expect(repo.get('quiet', undefined).state).toBe(ModelState.Ready);
  });

  it('limits its log lines to 5 per window for each model, then says how many it left out', () => {
    lines.length = 0;
    for (let i = 0; i < 8; i++) guard.fault(new Error(`again ${i}`), 'uncaughtException');
    expect(lines.length).toBeLessThanOrEqual(5);
    now += 60_000;
    guard.fault(new Error('after the window'), 'uncaughtException');
    expect(lines[lines.length - 1]).toMatch(/the model is failed; .*\(\d+ more fault\(s\) were not logged\): Error: after the window/);
  });

  it('counts faults within the window only, and starts again for a reloaded instance', async () => {
    await repo.load('faulty');
    await tick(); // the new instance's load leaves one fault
    const mv = repo.get('faulty', undefined);
    expect(mv.state).toBe(ModelState.Ready);
    for (let i = 0; i < 3; i++) guard.fault(new Error(`slow ${i}`), 'uncaughtException');
    now += 60_000;
    expect(guard.fault(new Error('a minute later'), 'uncaughtException').markedFailed).toBe(false);
    expect(lines[lines.length - 1]).toMatch(/1 of 5 within 60 s/);
    expect(mv.state).toBe(ModelState.Ready);
  });
});

describe('ModelFaultGuard: models that share a module file', () => {
  it('tells them apart by the class whose method is in the stack, and leaves the fault unattributed when none is', async () => {
    const lines: string[] = [];
    const guard = new ModelFaultGuard({ logger: { log: () => undefined, warn: () => undefined, error: (m: string) => lines.push(m) } });
    const repo = new ModelRepository(
      [
        { name: 'left', model: Left, modulePath: __filename },
        { name: 'right', model: Right, modulePath: __filename },
      ],
      'blocking',
      inProcessExecutor,
    );
    await repo.loadAll();
    guard.watch(repo);
    const left = repo.get('left', undefined).instance as Left;
    expect(guard.fault(left.broken(), 'uncaughtException')).toEqual({ model: "'left'", by: 'stack', markedFailed: false });
    expect(guard.fault(new Error('made in the test'), 'uncaughtException')).toEqual({ model: undefined, by: 'none', markedFailed: false });
    expect(lines[lines.length - 1]).toMatch(/its stack runs through the modules of model 'left', model 'right'/);
  });
});

