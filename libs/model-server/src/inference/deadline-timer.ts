import type { RequestContext } from '../model/request-context';
import { deadlineExceeded } from '../errors';

/**
 * One request's deadline: when it passes, the request's signal fires (model code can stop) and whatever the
 * data plane is waiting for fails at once with DEADLINE_EXCEEDED, even if model code ignores the signal.
 * Only requests that have a deadline get one.
 *
 * @internal
 */
export class DeadlineTimer {
  private readonly handle: NodeJS.Timeout;
  private rejectWait: ((err: Error) => void) | null = null;
  private stage = 'the request';
  private fired = false;

  constructor(
    readonly deadline: number,
    private ctx: RequestContext,
  ) {
    this.handle = setTimeout(() => this.fire(), Math.max(0, deadline - Date.now()));
  }

  private fire(): void {
    this.fired = true;
    this.ctx.abort('its deadline passed');
    this.rejectWait?.(deadlineExceeded(this.stage));
  }

  /** `value` once it settles, or DEADLINE_EXCEEDED as soon as the deadline passes, whichever comes first. */
  wait<T>(value: T | Promise<T>, stage: string): T | Promise<T> {
    if (this.fired) throw deadlineExceeded(stage);
    if (!(value instanceof Promise)) return value;
    this.stage = stage;
    return new Promise<T>((resolve, reject) => {
      this.rejectWait = reject;
      value.then(resolve, reject);
    });
  }

  /** The request's context was made anew (it learned its id late): the deadline now aborts that one. */
  rebind(ctx: RequestContext): void {
    this.ctx = ctx;
    if (this.fired) ctx.abort('its deadline passed');
  }

  clear(): void {
    clearTimeout(this.handle);
  }
}

/** The earliest of an absolute deadline and two relative timeouts (0 or undefined: none), from `now`. @internal */
export function earliestDeadline(deadline: number | undefined, timeoutMs: number | undefined, defaultMs: number, now: number): number | undefined {
  let result = deadline;
  if (timeoutMs !== undefined && timeoutMs > 0 && (result === undefined || now + timeoutMs < result)) result = now + timeoutMs;
  if (defaultMs > 0 && (result === undefined || now + defaultMs < result)) result = now + defaultMs;
  return result;
}
