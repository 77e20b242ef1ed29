import * as otel from '@opentelemetry/api';
import type { Context, ContextManager } from '@opentelemetry/api';
import { EventEmitter } from 'node:events';
import { promiseHooks } from 'node:v8';

/** How the active context follows async code: along promises ({@link PromiseContextManager}), or Node's `AsyncLocalStorage`. */
export type TracingContext = 'promise' | 'async-local-storage';

/**
 * The context manager a tracer provider registers for `kind`: a new {@link PromiseContextManager}, or undefined for
 * the SDK's own (`AsyncLocalStorage`), as `provider.register({ contextManager })` takes it.
 */
export function contextManagerFor(kind: TracingContext): ContextManager | undefined {
  return kind === 'promise' ? new PromiseContextManager() : undefined;
}

/** Read once: the API's exports are getters, and the hooks run for every promise. */
const { ROOT_CONTEXT } = otel;

/** Where a promise keeps the context it was made in (only when that is not the root context). */
const MADE_IN = Symbol('nms.context');

interface Carrier {
  [MADE_IN]?: Context;
}

/** The methods of an emitter that add listeners, and those that remove them. */
const ADDERS = ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener'] as const;
const REMOVERS = ['off', 'removeListener'] as const;
/** A bound emitter's wrapped listeners, by event and original listener (what `off` looks up). */
const BOUND_LISTENERS = Symbol('nms.boundListeners');

type Listener = (...args: unknown[]) => unknown;
type BoundEmitter = EventEmitter & { [BOUND_LISTENERS]?: Map<string | symbol, WeakMap<Listener, Listener>> };

/**
 * An OpenTelemetry context manager that carries the active context along promises only: a promise keeps the
 * context it was made in, and its callbacks (`then`, `catch`, the code after an `await`) run in it. V8's promise
 * hooks do this (`node:v8` `promiseHooks`), without Node's async hooks, which the `AsyncLocalStorage` context
 * manager turns on for every promise, tick, timer and socket operation of the process once any context is entered:
 * on Node 20 they are about 40% of what tracing costs a request that is not sampled (docs/observability.md). What it does not carry: the callbacks of timers, `setImmediate`, `process.nextTick` and
 * `queueMicrotask` run in the root context unless bound (`context.bind(context.active(), fn)`); event listeners run in
 * the context of the code that emits, as with every Node context manager, or in the one an emitter was bound to.
 *
 * One per process is enough (each one installs its hooks); the CLI registers it with the trace SDK on Node
 * versions whose `AsyncLocalStorage` runs on async hooks (`tracing.context`, docs/observability.md).
 */
export class PromiseContextManager implements ContextManager {
  /** How many are enabled in this thread. */
  private static enabled = 0;

  /** True while one is enabled in this thread (registered with the API: the SDK enables what it registers). */
  static inUse(): boolean {
    return PromiseContextManager.enabled > 0;
  }

  private current: Context = ROOT_CONTEXT;
  /** The contexts to go back to when the promise callbacks running now return (they can nest). */
  private readonly outer: Context[] = [];
  private stopHooks: (() => void) | null = null;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const previous = this.current;
    this.current = context;
    try {
      return thisArg === undefined ? fn(...args) : fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target === 'function') return this.bindFunction(context, target as unknown as Listener) as T;
    if (target instanceof EventEmitter) return this.bindEmitter(context, target as BoundEmitter) as T;
    return target;
  }

  enable(): this {
    if (this.stopHooks !== null) return this;
    const stop = promiseHooks.createHook({
      init: (promise) => {
        const context = this.current;
        if (context !== ROOT_CONTEXT) (promise as Carrier)[MADE_IN] = context;
      },
      before: (promise) => {
        this.outer.push(this.current);
        this.current = (promise as Carrier)[MADE_IN] ?? ROOT_CONTEXT;
      },
      after: () => {
        this.current = this.outer.pop() ?? ROOT_CONTEXT;
      },
    });
    this.stopHooks = () => void stop();
    PromiseContextManager.enabled++;
    return this;
  }

  disable(): this {
    if (this.stopHooks !== null) {
      this.stopHooks();
      PromiseContextManager.enabled--;
    }
    this.stopHooks = null;
    this.current = ROOT_CONTEXT;
    this.outer.length = 0;
    return this;
  }

  private bindFunction(context: Context, fn: Listener): Listener {
    const run = <A extends unknown[]>(thisArg: unknown, args: A): unknown => this.with(context, fn, thisArg, ...args);
    const bound = function (this: unknown, ...args: unknown[]): unknown {
      return run(this, args);
    };
    Object.defineProperty(bound, 'length', { value: fn.length, configurable: true });
    return bound;
  }

  /** Every listener added to `emitter` from now on runs in `context`; removing the original listener removes it. */
  private bindEmitter(context: Context, emitter: BoundEmitter): BoundEmitter {
    if (emitter[BOUND_LISTENERS] !== undefined) return emitter;
    const wrapped = new Map<string | symbol, WeakMap<Listener, Listener>>();
    emitter[BOUND_LISTENERS] = wrapped;
    for (const name of ADDERS) {
      const add = emitter[name] as (event: string | symbol, listener: Listener) => EventEmitter;
      emitter[name] = ((event: string | symbol, listener: Listener) => {
        let byListener = wrapped.get(event);
        if (byListener === undefined) wrapped.set(event, (byListener = new WeakMap()));
        let bound = byListener.get(listener);
        if (bound === undefined) byListener.set(listener, (bound = this.bindFunction(context, listener)));
        return add.call(emitter, event, bound);
      }) as never;
    }
    for (const name of REMOVERS) {
      const remove = emitter[name] as (event: string | symbol, listener: Listener) => EventEmitter;
      emitter[name] = ((event: string | symbol, listener: Listener) => remove.call(emitter, event, wrapped.get(event)?.get(listener) ?? listener)) as never;
    }
    const removeAll = emitter.removeAllListeners;
    emitter.removeAllListeners = ((...event: [(string | symbol)?]) => {
      // Without an argument it removes every event's listeners (an explicit undefined names one event).
      if (event.length === 0) wrapped.clear();
      else wrapped.delete(event[0]!);
      return removeAll.apply(emitter, event);
    }) as never;
    return emitter;
  }
}
