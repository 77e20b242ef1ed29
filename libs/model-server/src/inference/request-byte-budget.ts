import { byteBudgetExhausted } from '../errors';

/**
 * The server-wide budget of request bytes held at once by requests being decoded and served (REST and gRPC
 * bodies together). A transport takes a request's body size before it decodes it and gives it back once the
 * request is answered; a request that does not fit is refused with 503 and `Retry-After` instead of growing
 * the heap. One request larger than the whole budget is still taken when nothing else is held, so the budget
 * never refuses what the body limit allows.
 *
 * @internal
 */
export class RequestByteBudget {
  private held = 0;

  /** @param limit bytes (0: no limit) */
  constructor(readonly limit: number) {}

  /** Takes `bytes`, or throws the 503 when they do not fit now. Give them back with {@link release}. */
  acquire(bytes: number): void {
    if (this.limit > 0 && this.held > 0 && this.held + bytes > this.limit) throw byteBudgetExhausted(bytes, this.limit);
    this.held += bytes;
  }

  release(bytes: number): void {
    this.held -= bytes;
  }

  /** Bytes held now. */
  get inUse(): number {
    return this.held;
  }
}

/** Default {@link RequestByteBudget} limit: 256 MiB, four requests at the default body limit. @internal */
export const DEFAULT_MAX_REQUEST_BYTES_IN_FLIGHT = 256 * 1024 * 1024;
