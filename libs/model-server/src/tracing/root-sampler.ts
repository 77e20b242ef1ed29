import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';
import * as otel from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';

/** The API's entry points, read once (its exports are getters). */
const { trace, TraceFlags } = otel;

/** Random bytes drawn at a time: ids for about 680 requests. */
const POOL_BYTES = 16 * 1024;

/**
 * What the trace SDK's provider takes as its id generator (`idGenerator` of the tracer provider's options): the
 * shape of the SDK's `IdGenerator`, written here so the library does not depend on the SDK.
 *
 * @internal
 */
export interface TraceIdGenerator {
  generateTraceId(): string;
  generateSpanId(): string;
}

/**
 * The root decision of a request, made ahead of the trace SDK for a sampler whose decision on a new trace depends on
 * its trace id alone (a trace-id ratio, always off): the same decision the SDK's `TraceIdRatioBasedSampler` makes
 * (the four 32-bit words of the trace id XORed, below `ratio × (2^32 − 1)`), taken on the id's bytes before they are
 * written as hex. A request it drops gets a non-recording span with fresh ids (what the SDK would make) without the
 * SDK's span start; a request it keeps goes to the SDK, which takes the trace id chosen here from
 * {@link idGenerator} and samples it too. At a 1% ratio this saves the 99% of requests it drops about 1 µs of CPU
 * each (docs/observability.md, 'Sampling and what it costs').
 *
 * Only the server span of a request with no incoming trace context is decided here; every other span (children,
 * requests continuing a caller's trace) is the SDK's. The CLI sets one up for the samplers it configures
 * ({@link useRootSampler}); with an application's own SDK setup, every span is the SDK's.
 *
 * @internal
 */
export class RootSampler {
  /** The SDK's bound: a trace is sampled when its accumulated id is below it. */
  private readonly upperBound: number;
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  /** The pool as hex, written once a fill: ids are cut from it without a call into Node per id. */
  private hex = '';
  private at = POOL_BYTES;
  /** The trace id of a kept root, for the SDK's next root span. */
  private chosen: string | undefined;

  /** `ratio`: the share of new traces sampled, 0 (none) to 1 (all), as `OTEL_TRACES_SAMPLER_ARG` gives it (checked by the config). */
  constructor(ratio: number) {
    this.upperBound = ratio === 1 ? 0x100000000 : Math.floor(ratio * 0xffffffff);
  }

  /** The ids the SDK's spans get: random, from the same pool, and a kept root's trace id the first time after it. */
  readonly idGenerator: TraceIdGenerator = {
    generateTraceId: () => {
      const chosen = this.chosen;
      if (chosen !== undefined) {
        this.chosen = undefined;
        return chosen;
      }
      const at = this.take(16);
      return this.hex.substring(2 * at, 2 * at + 32);
    },
    generateSpanId: () => {
      const at = this.take(8);
      return this.hex.substring(2 * at, 2 * at + 16);
    },
  };

  /**
   * Decides a new trace: the non-recording span of a dropped one, or undefined for a kept one, whose trace id the
   * SDK's next root span takes (start it at once, from the root context).
   */
  dropOrChoose(): Span | undefined {
    const at = this.take(24);
    const pool = this.pool;
    const word = (pool.readUInt32BE(at) ^ pool.readUInt32BE(at + 4) ^ pool.readUInt32BE(at + 8) ^ pool.readUInt32BE(at + 12)) >>> 0;
    const traceId = this.hex.substring(2 * at, 2 * at + 32);
    if (word < this.upperBound) {
      this.chosen = traceId;
      return undefined;
    }
    return trace.wrapSpanContext({ traceId, spanId: this.hex.substring(2 * at + 32, 2 * at + 48), traceFlags: TraceFlags.NONE });
  }

  /** Forgets a chosen trace id the SDK did not take. */
  settle(): void {
    this.chosen = undefined;
  }

  /** The offset of `n` (a multiple of 8) fresh random bytes in the pool. */
  private take(n: number): number {
    if (this.at + n > POOL_BYTES) this.fill();
    const at = this.at;
    this.at += n;
    return at;
  }

  /**
   * Draws the pool anew. Ids are cut at multiples of 8 bytes, so no 8 bytes there may all be zero (an all-zero id
   * is invalid in W3C trace context; the chance is 2^-64 a group): such a group gets its last byte set, as the SDK
   * does for its ids.
   */
  private fill(): void {
    const pool = this.pool;
    randomFillSync(pool);
    for (let i = 0; i < POOL_BYTES; i += 8) if (pool.readUInt32BE(i) === 0 && pool.readUInt32BE(i + 4) === 0) pool[i + 7] = 1;
    this.hex = pool.toString('hex');
    this.at = 0;
  }
}

let registered: RootSampler | undefined;

/**
 * Sets the root sampler the server's request spans use, with the tracer provider the SDK registers (its
 * `idGenerator` must be the sampler's, and its sampler decide roots by the same ratio); `undefined` removes it.
 * Read when the server is made, as the SDK's presence is.
 *
 * @internal
 */
export function useRootSampler(sampler: RootSampler | undefined): void {
  registered = sampler;
}

/** The root sampler set with {@link useRootSampler}, if any. @internal */
export function rootSampler(): RootSampler | undefined {
  return registered;
}
