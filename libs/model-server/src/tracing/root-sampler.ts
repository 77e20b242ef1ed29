import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';
import * as otel from '@opentelemetry/api';
import { DroppedRoot } from './dropped-root';
import { formatTraceparent } from './traceparent.util';

/** The API's entry points, read once (its exports are getters). */
const { TraceFlags } = otel;

/** Random bytes drawn at a time for the SDK's ids. */
const POOL_BYTES = 16 * 1024;

/** The bytes of a trace id and of a span id (W3C trace context), written as twice as many hex digits. */
const TRACE_ID_BYTES = 16;
const SPAN_ID_BYTES = 8;
/** The random bytes of one new trace: its trace id, then its span id. */
const ROOT_BYTES = TRACE_ID_BYTES + SPAN_ID_BYTES;

/** New traces decided per draw of random bytes, {@link ROOT_BYTES} each. */
const ROOTS_PER_DRAW = 512;

/** A `traceparent` of a dropped root with its ids still to be written (zeros), as {@link formatTraceparent} writes it. */
const UNWRITTEN = formatTraceparent({ traceId: '0'.repeat(2 * TRACE_ID_BYTES), spanId: '0'.repeat(2 * SPAN_ID_BYTES), traceFlags: TraceFlags.NONE });
/** Its length, and where its trace id and span id start. */
const TRACEPARENT_LENGTH = UNWRITTEN.length;
const TRACE_ID_AT = UNWRITTEN.indexOf('-') + 1;
const SPAN_ID_AT = UNWRITTEN.indexOf('-', TRACE_ID_AT) + 1;

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
 * written as hex. A request it drops gets a non-recording span with fresh ids (what the SDK would make) and its
 * `traceparent` written ({@link DroppedRoot}), without the SDK's span start; a request it keeps goes to the SDK,
 * which takes the trace id chosen here from {@link idGenerator} and samples it too. At a 1% ratio this saves the 99%
 * of requests it drops about 1 µs of CPU each (docs/observability.md, 'Sampling and what it costs').
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
  private readonly pool = new RandomIds(POOL_BYTES);
  /** The pool as hex, written once a fill: ids are cut from it without a call into Node per id. */
  private hex = '';
  private at = POOL_BYTES;
  /** The random bytes of the next new traces, {@link ROOT_BYTES} each (trace id, span id). */
  private readonly roots = new RandomIds(ROOTS_PER_DRAW * ROOT_BYTES);
  /** Their `traceparent`s, one after the other, written once a draw: ids and headers are cut from it. */
  private readonly rootBytes = traceparentTemplate(ROOTS_PER_DRAW);
  /** The same bytes, written two hex digits at a time. */
  private readonly rootView = new DataView(this.rootBytes.buffer, this.rootBytes.byteOffset, this.rootBytes.byteLength);
  private rootText = '';
  private rootAt = ROOTS_PER_DRAW;
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
      const at = this.take(TRACE_ID_BYTES);
      return this.hex.substring(2 * at, 2 * (at + TRACE_ID_BYTES));
    },
    generateSpanId: () => {
      const at = this.take(SPAN_ID_BYTES);
      return this.hex.substring(2 * at, 2 * (at + SPAN_ID_BYTES));
    },
  };

  /**
   * Decides a new trace: the non-recording span of a dropped one, or undefined for a kept one, whose trace id the
   * SDK's next root span takes (start it at once, from the root context).
   */
  dropOrChoose(): DroppedRoot | undefined {
    if (this.rootAt === ROOTS_PER_DRAW) this.drawRoots();
    const i = this.rootAt++;
    const word = this.roots.traceIdWord(i * ROOT_BYTES);
    const text = this.rootText;
    const from = i * TRACEPARENT_LENGTH;
    const traceId = text.substring(from + TRACE_ID_AT, from + TRACE_ID_AT + 2 * TRACE_ID_BYTES);
    if (word < this.upperBound) {
      this.chosen = traceId;
      return undefined;
    }
    const spanContext = { traceId, spanId: text.substring(from + SPAN_ID_AT, from + SPAN_ID_AT + 2 * SPAN_ID_BYTES), traceFlags: TraceFlags.NONE };
    return new DroppedRoot(spanContext, text.substring(from, from + TRACEPARENT_LENGTH));
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

  /** Draws the SDK's pool anew. */
  private fill(): void {
    this.pool.draw();
    this.hex = this.pool.bytes.toString('hex');
    this.at = 0;
  }

  /** Draws the next new traces' ids and writes their `traceparent`s, as one string. */
  private drawRoots(): void {
    const ids = this.roots.draw();
    const view = this.rootView;
    for (let i = 0; i < ROOTS_PER_DRAW; i++) {
      writeHex(ids, i * ROOT_BYTES, TRACE_ID_BYTES, view, i * TRACEPARENT_LENGTH + TRACE_ID_AT);
      writeHex(ids, i * ROOT_BYTES + TRACE_ID_BYTES, SPAN_ID_BYTES, view, i * TRACEPARENT_LENGTH + SPAN_ID_AT);
    }
    this.rootText = this.rootBytes.toString('latin1');
    this.rootAt = 0;
  }
}

/** Random bytes drawn as ids, read as bytes and as native 32-bit words. */
class RandomIds {
  readonly bytes: Buffer;
  private readonly words: Uint32Array;

  constructor(size: number) {
    const memory = new ArrayBuffer(size);
    this.bytes = Buffer.from(memory);
    this.words = new Uint32Array(memory);
  }

  /**
   * Draws new bytes. Ids are cut at multiples of 8 bytes, so no 8 bytes there may all be zero (an all-zero id is
   * invalid in W3C trace context; the chance is 2^-64 a group): such a group gets its last byte set, as the SDK does
   * for its ids.
   */
  draw(): Buffer {
    randomFillSync(this.bytes);
    const words = this.words;
    for (let i = 0; i < words.length; i += 2) if ((words[i]! | words[i + 1]!) === 0) this.bytes[4 * i + 7] = 1;
    return this.bytes;
  }

  /** The four 32-bit words of the trace id at `at` (read big-endian, as from its hex) XORed: what the ratio rule compares. */
  traceIdWord(at: number): number {
    const words = this.words;
    const w = at >> 2;
    const native = words[w]! ^ words[w + 1]! ^ words[w + 2]! ^ words[w + 3]!;
    return LITTLE_ENDIAN ? byteSwap(native) : native >>> 0;
  }
}

/** True on a little-endian machine (the native words of {@link RandomIds} are then byte-swapped). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** `w`'s four bytes in the other order, unsigned. */
function byteSwap(w: number): number {
  return (((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24)) >>> 0;
}

/** Lower-case hex digits, as character codes. */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * The two hex digits of each byte value as one 16-bit word, the first digit in its low byte (written
 * little-endian, the digits come out in order): half the stores of writing them one at a time, and a draw in 40%
 * less time (31 ns a new trace against 51, in isolation).
 */
const HEX_PAIRS = new Uint16Array(256).map((_, b) => HEX_DIGITS[b >> 4]! | (HEX_DIGITS[b & 15]! << 8));

/** Writes `n` bytes of `from` (at `at`) as hex into `to` at `into`. */
function writeHex(from: Uint8Array, at: number, n: number, to: DataView, into: number): void {
  for (let k = 0; k < n; k++) to.setUint16(into + 2 * k, HEX_PAIRS[from[at + k]!]!, true);
}

/** `n` W3C `traceparent`s one after the other, their ids still to be written. */
function traceparentTemplate(n: number): Buffer {
  return Buffer.from(UNWRITTEN.repeat(n), 'latin1');
}

let registered: RootSampler | undefined;

/**
 * Sets the root sampler the server's request spans use, with the tracer provider the SDK registers (its
 * `idGenerator` must be the sampler's, and its sampler decide roots by the same ratio) and the SDK's default
 * propagators (W3C trace context and baggage: a request with neither header starts a new trace without being read
 * through them); `undefined` removes it. Read when the server is made, as the SDK's presence is.
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
