import { createContextKey, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { PromiseContextManager } from './promise-context-manager';

const KEY = createContextKey('test');
const named = (name: string): Context => ROOT_CONTEXT.setValue(KEY, name);
const nameOf = (ctx: Context): unknown => ctx.getValue(KEY);

describe('PromiseContextManager', () => {
  let manager: PromiseContextManager;

  beforeEach(() => {
    manager = new PromiseContextManager().enable();
  });

  afterEach(() => {
    manager.disable();
  });

  it('makes a context active for the call and restores the one before, also when the call throws', () => {
    expect(manager.active()).toBe(ROOT_CONTEXT);
    const a = named('a');
    const b = named('b');
    manager.with(a, () => {
      expect(manager.active()).toBe(a);
      expect(() =>
        manager.with(b, () => {
          expect(manager.active()).toBe(b);
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(manager.active()).toBe(a);
    });
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('passes this and the arguments and returns what the call returns', () => {
    const receiver = { factor: 3 };
    const result = manager.with(named('a'), function (this: typeof receiver, x: number, y: number) {
      return this.factor * (x + y);
    }, receiver, 1, 2);
    expect(result).toBe(9);
  });

  it('keeps the context after each await of an async function', async () => {
    const seen: unknown[] = [];
    await manager.with(named('a'), async () => {
      seen.push(nameOf(manager.active()));
      await sleep(2);
      seen.push(nameOf(manager.active()));
      await Promise.resolve();
      seen.push(nameOf(manager.active()));
    });
    expect(seen).toEqual(['a', 'a', 'a']);
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('keeps concurrent flows apart while their awaits interleave', async () => {
    const flow = async (name: string, delays: number[]): Promise<unknown[]> => {
      const seen: unknown[] = [];
      for (const d of delays) {
        await sleep(d);
        seen.push(nameOf(manager.active()));
      }
      return seen;
    };
    const [a, b] = await Promise.all([manager.with(named('a'), flow, undefined, 'a', [3, 1, 4, 1]), manager.with(named('b'), flow, undefined, 'b', [1, 5, 1, 2])]);
    expect(a).toEqual(['a', 'a', 'a', 'a']);
    expect(b).toEqual(['b', 'b', 'b', 'b']);
  });

  it('runs a then callback in the context it was added in, wherever the promise is settled', async () => {
    let resolve!: (v: number) => void;
    const pending = new Promise<number>((r) => (resolve = r));
    const seen = manager.with(named('a'), () => pending.then(() => nameOf(manager.active())));
    manager.with(named('b'), () => resolve(1));
    await expect(seen).resolves.toBe('a');
  });

  it('carries the context into async generators (a streamed predict)', async () => {
    async function* words(): AsyncGenerator<unknown> {
      for (let i = 0; i < 3; i++) {
        await sleep(1);
        yield nameOf(manager.active());
      }
    }
    const seen = await manager.with(named('a'), async () => {
      const out: unknown[] = [];
      for await (const w of words()) out.push(w);
      return out;
    });
    expect(seen).toEqual(['a', 'a', 'a']);
  });

  it('does not carry the context into a timer callback, unless the callback is bound', async () => {
    const a = named('a');
    const plain = await manager.with(a, () => new Promise<unknown>((resolve) => setTimeout(() => resolve(nameOf(manager.active())), 1)));
    expect(plain).toBeUndefined();
    const bound = await manager.with(a, () => new Promise<unknown>((resolve) => setTimeout(manager.bind(a, () => resolve(nameOf(manager.active()))), 1)));
    expect(bound).toBe('a');
  });

  it('binds a function to a context, keeping its receiver, arguments and length', () => {
    const fn = manager.bind(named('a'), function (this: { k: number }, x: number) {
      return [this.k + x, nameOf(manager.active())];
    });
    expect(fn.length).toBe(1);
    expect(manager.with(named('b'), () => fn.call({ k: 1 }, 2))).toEqual([3, 'a']);
  });

  it('binds an emitter: its listeners run in the context, and removing the original listener removes it', () => {
    const emitter = manager.bind(named('a'), new EventEmitter());
    const seen: unknown[] = [];
    const listener = (): void => void seen.push(nameOf(manager.active()));
    emitter.on('x', listener);
    emitter.once('y', listener);
    manager.with(named('b'), () => {
      emitter.emit('x');
      emitter.emit('y');
      emitter.emit('y');
    });
    expect(seen).toEqual(['a', 'a']);
    emitter.off('x', listener);
    emitter.emit('x');
    expect(seen).toEqual(['a', 'a']);
    expect(emitter.listenerCount('x')).toBe(0);
    emitter.on('z', listener);
    emitter.removeAllListeners();
    expect(emitter.listenerCount('z')).toBe(0);
    const other = { plain: true };
    expect(manager.bind(named('a'), other)).toBe(other);
  });

  it('stops carrying contexts once disabled, and can be enabled again', async () => {
    manager.disable();
    const lost = await manager.with(named('a'), async () => {
      await sleep(1);
      return nameOf(manager.active());
    });
    expect(lost).toBeUndefined();
    manager.enable().enable();
    const kept = await manager.with(named('a'), async () => {
      await sleep(1);
      return nameOf(manager.active());
    });
    expect(kept).toBe('a');
  });
});
