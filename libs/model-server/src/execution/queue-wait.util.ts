import type { RequestContext } from '../model/request-context';

/**
 * Queue waits a request already had before it reached the worker pool (the batching window), so the
 * pool reports each request's whole wait once: batch window + wait for a free worker.
 */
const carried = new WeakMap<RequestContext, readonly number[]>();

/** Hands the pool the waits of the requests `ctx` runs (one per request of a merged batch). @internal */
export function carryQueueWaits(ctx: RequestContext, waits: readonly number[]): void {
  carried.set(ctx, waits);
}

/** The waits carried with `ctx`, removed; undefined when none were. @internal */
export function takeQueueWaits(ctx: RequestContext): readonly number[] | undefined {
  const waits = carried.get(ctx);
  if (waits !== undefined) carried.delete(ctx);
  return waits;
}
