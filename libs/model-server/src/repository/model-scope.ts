import { AsyncLocalStorage } from 'node:async_hooks';
import type { ModelHooks } from '../model/model-hooks';

/** The model version a piece of model code belongs to, as faults report it. @internal */
export interface ModelScope {
  /** `'iris'` or `'iris' version '2'`. */
  readonly label: string;
}

/**
 * Model scopes: every call of a model's code (its constructor, `load`, `preprocess`, `validate`, `predict`,
 * `postprocess`, `explain`, custom operations, `unload`) runs inside its version's scope, an `AsyncLocalStorage`
 * store. Timers, callbacks and promises that code starts carry the store, so a fault that escapes them later (an
 * `uncaughtException` or `unhandledRejection`) can be traced back to the model (see `ModelFaultGuard`).
 *
 * Two switches, both off by default (a library user who handles no faults pays nothing):
 * - wanted: versions loaded from now on get their hooks wrapped (a plain call while tracking is off);
 * - tracking: the `AsyncLocalStorage` exists and the wrappers enter it. It makes every async resource of the
 *   process dearer (Node 20 runs a hook for each promise, tick and timer: measured at about 2 µs of CPU per small
 *   REST request, ~5%), so the fault guard turns it on at the first fault, or from the start when asked.
 */
let wanted = false;
let storage: AsyncLocalStorage<ModelScope> | null = null;

/** Versions loaded from now on run their hooks through scope wrappers (cheap until tracking starts). @internal */
export function wantModelScopes(): void {
  wanted = true;
}

/** Starts tracking: from now on model code runs inside its scope, and what it starts carries the scope. @internal */
export function trackModelScopes(): void {
  wanted = true;
  storage ??= new AsyncLocalStorage<ModelScope>();
}

/** Whether model scopes are being tracked. @internal */
export function modelScopesTracked(): boolean {
  return storage !== null;
}

/** The model whose code started what runs now (through timers, callbacks and promises), if any. @internal */
export function currentModelScope(): ModelScope | undefined {
  return storage === null ? undefined : storage.getStore();
}

/** Runs `fn(...args)` inside `scope` (directly while scopes are not tracked). @internal */
export function inModelScope<A extends unknown[], R>(scope: ModelScope, fn: (...args: A) => R, ...args: A): R {
  return storage === null ? fn(...args) : storage.run(scope, fn, ...args);
}

/** `fn`, entering `scope` on every call while scopes are tracked. Built once per hook at load: no closure per request. */
function scoped<A, B, R>(scope: ModelScope, fn: (a: A, b: B) => R): (a: A, b: B) => R {
  return (a: A, b: B) => (storage === null ? fn(a, b) : storage.run(scope, fn, a, b));
}

/** A model's hooks, each running inside `scope`; the hooks themselves unless scopes are wanted. Built at load. @internal */
export function scopeHooks(hooks: ModelHooks, scope: ModelScope): ModelHooks {
  if (!wanted) return hooks;
  return {
    preprocess: hooks.preprocess === null ? null : scoped(scope, hooks.preprocess),
    validate: hooks.validate === null ? null : scoped(scope, hooks.validate),
    predict: scoped(scope, hooks.predict),
    predictStream: hooks.predictStream === null ? null : scoped(scope, hooks.predictStream),
    explain: hooks.explain === null ? null : scoped(scope, hooks.explain),
    postprocess: hooks.postprocess === null ? null : scoped(scope, hooks.postprocess),
  };
}
