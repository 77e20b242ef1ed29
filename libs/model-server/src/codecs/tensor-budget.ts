import { tensorBudgetExceeded } from '../errors';

/**
 * The bytes one request's decoded tensors may still take. Codecs take a tensor's share from it before they
 * allocate (from its shape and datatype), so a request over {@link RequestLimits.maxTensorBytes} is refused
 * before any memory is spent on it.
 *
 * @internal
 */
export class TensorBudget {
  private left: number;

  constructor(readonly limit: number) {
    this.left = limit;
  }

  /** Takes `bytes` for the tensor `where`, or throws a 413 naming `maxTensorBytes`. */
  take(bytes: number, where: string): void {
    if (bytes > this.left) throw tensorBudgetExceeded(where, bytes, this.limit);
    this.left -= bytes;
  }

  /** Bytes still available. */
  get remaining(): number {
    return this.left;
  }
}

/** A budget with no limit (in-process calls from model code, tests). @internal */
export const UNLIMITED_BUDGET_BYTES = Number.MAX_SAFE_INTEGER;
