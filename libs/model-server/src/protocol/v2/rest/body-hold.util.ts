import type { ServerResponse } from 'node:http';
import type { RequestByteBudget } from '../../../inference/request-byte-budget';

/**
 * Bodies smaller than this are not counted against the server's byte budget: they cannot exhaust memory, and
 * counting them would cost the small requests that are most of the traffic a listener each.
 */
export const BUDGETED_BODY_BYTES = 64 * 1024;

/**
 * Holds a request's body size in the server-wide byte budget until its answer is sent or its client goes away;
 * a 503 (Retry-After) when the budget is full. Small bodies are not counted.
 *
 * @internal
 */
export function holdBodyBytes(budget: RequestByteBudget, bytes: number, res: ServerResponse): void {
  if (bytes < BUDGETED_BODY_BYTES) return;
  budget.acquire(bytes);
  // A response closed already (its client went away while the body was read or decoded) fires no more 'close':
  // held until then, the bytes would never come back, and enough such clients would leave every large request a 503.
  if (res.destroyed) budget.release(bytes);
  else res.once('close', () => budget.release(bytes));
}
