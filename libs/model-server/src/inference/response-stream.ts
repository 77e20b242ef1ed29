import { performance } from 'node:perf_hooks';
import { deadlineExceeded, streamCancelled } from '../errors';
import type { ModelServerError } from '../errors/model-server.error';
import type { InferenceRequest, InferenceResponse, InferenceResult } from '../model/inference.interface';
import type { RequestFrame } from './request-frame';
import { classify } from './request-frame';
import { encodeResponse } from './response-encoder';

/** How a stream ended, as its monitoring record says. @publicApi */
export type StreamEnding = 'completed' | 'cancelled' | 'deadline' | 'error';

/** What a stream's monitoring event tells of it. @publicApi */
export interface StreamFacts {
  /** Partial results sent (or ready to send) before it ended. */
  chunks: number;
  /** Milliseconds from the request's arrival in the data plane to its first partial result (absent: none came). */
  firstChunkMs: number | undefined;
  /** Milliseconds between consecutive partial results (as many as `chunks - 1`). */
  gapsMs: number[];
  ending: StreamEnding;
}

/** What the stream tells its data plane when it ends. @internal */
export type StreamEnd = (f: RequestFrame, stream: ResponseStream, error: ModelServerError | undefined) => void;

/**
 * One streaming request's partial results, after `preprocess`/`validate` ran: the model's iteration, each result
 * through `postprocess` (when the model has one) and encoded as a response. The transport pulls them with
 * `for await`; the model is asked for its next result only while fewer than `maxWaiting` encoded ones wait for the
 * transport (a slow client pauses the model). The request stays admitted (in-flight limits, unload waits) until the
 * stream ends: the model finished, failed, the request's signal fired (client gone, deadline passed: the model's
 * iteration is ended with `return`, so its `finally` runs), or the transport stopped pulling (`return`).
 *
 * @internal
 */
export class ResponseStream implements AsyncIterableIterator<InferenceResponse> {
  private readonly iterator: AsyncIterator<InferenceResult>;
  private readonly waiting: InferenceResponse[] = [];
  private reader: { resolve: (r: IteratorResult<InferenceResponse>) => void; reject: (err: unknown) => void } | null = null;
  private pumping = false;
  private sourceDone = false;
  private failure: ModelServerError | undefined;
  private ended = false;
  private readonly start: number;
  private last = 0;
  /** Chunks produced so far, and the facts of the stream for its event. */
  readonly facts: StreamFacts = { chunks: 0, firstChunkMs: undefined, gapsMs: [], ending: 'completed' };
  /** The postprocessed partial results, kept when the request's event may be read for its payloads (a record logs them assembled). */
  readonly results: InferenceResult[] | null;

  constructor(
    private readonly f: RequestFrame,
    source: AsyncIterable<InferenceResult>,
    /** The request after preprocess/validate: requested outputs filter each partial response. */
    readonly request: InferenceRequest,
    private readonly maxWaiting: number,
    private readonly onEnd: StreamEnd,
    startedAt: number,
    /** Keep the partial results for the request's event (some listener reads events' payloads). */
    keepResults: boolean,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
    this.start = startedAt;
    this.results = f.trace !== null && keepResults ? [] : null;
    const signal = f.ctx.signal;
    if (signal.aborted) queueMicrotask(this.onAbort);
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The request's id (the client's or a generated one). */
  get id(): string {
    return this.f.ctx.id;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<InferenceResponse>> {
    if (this.waiting.length > 0) {
      const value = this.waiting.shift()!;
      this.pump();
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject };
      this.pump();
    });
  }

  /** The transport stops reading before the end (its client went away): the model's iteration is ended. */
  return(): Promise<IteratorResult<InferenceResponse>> {
    this.end(streamCancelled(), 'cancelled');
    this.failure = undefined;
    return Promise.resolve(DONE);
  }

  /** The request's signal fired: its deadline passed or its client went away. */
  private readonly onAbort = (): void => {
    const deadline = this.f.ctx.deadline;
    if (deadline !== undefined && Date.now() >= deadline - 1) this.end(deadlineExceeded('the stream'), 'deadline');
    else this.end(streamCancelled(), 'cancelled');
  };

  /** Asks the model for results while someone waits or fewer than `maxWaiting` wait already. */
  private pump(): void {
    if (this.pumping || this.ended || !this.wanted()) return;
    this.pumping = true;
    this.produce().then(undefined, this.failed);
  }

  /** True while a result would be taken at once or may wait. */
  private wanted(): boolean {
    return this.reader !== null || this.waiting.length < this.maxWaiting;
  }

  private readonly failed = (err: unknown): void => {
    this.pumping = false;
    this.end(classify(err, this.f.mv, this.f.stage, this.f.ctx.id), 'error');
  };

  /** Results from the model, through postprocess and encoding, to the reader or the waiting list, while wanted. */
  private async produce(): Promise<void> {
    const f = this.f;
    const post = f.serving.hooks.postprocess;
    let inTurn = 0;
    do {
      // A model that never waits would hold the event loop (and the writes of its own parts) for ever: after a
      // run of parts in one turn, the next part waits for the next turn.
      if (++inTurn > PARTS_PER_TURN) {
        await nextTurn();
        inTurn = 0;
        if (this.ended) break;
      }
      f.stage = 'predict';
      const step = await f.wait(this.iterator.next());
      if (this.ended) break;
      if (step.done === true) {
        this.sourceDone = true;
        this.end(undefined, 'completed');
        break;
      }
      let result = step.value;
      if (post !== null) {
        f.stage = 'postprocess';
        result = await f.wait(post(result, f.ctx));
        if (this.ended) break;
      }
      f.stage = 'encode';
      const response = encodeResponse(result, f.mv, this.request, 'predictStream');
      this.results?.push(result);
      this.count();
      const reader = this.reader;
      if (reader !== null) {
        this.reader = null;
        reader.resolve({ value: response, done: false });
      } else {
        this.waiting.push(response);
      }
    } while (!this.ended && this.wanted());
    this.pumping = false;
  }

  private count(): void {
    const now = performance.now();
    const facts = this.facts;
    if (facts.chunks === 0) facts.firstChunkMs = now - this.start;
    else facts.gapsMs.push(now - this.last);
    this.last = now;
    facts.chunks++;
  }

  /** Ends the stream once: the model's iteration is closed unless it finished, the reader told, the request closed. */
  private end(error: ModelServerError | undefined, ending: StreamEnding): void {
    if (this.ended) return;
    this.ended = true;
    this.facts.ending = ending;
    this.f.ctx.signal.removeEventListener('abort', this.onAbort);
    if (!this.sourceDone) closeIterator(this.iterator);
    if (ending === 'cancelled') this.waiting.length = 0;
    const reader = this.reader;
    this.reader = null;
    if (error !== undefined && ending !== 'cancelled') {
      if (reader !== null) reader.reject(error);
      else this.failure = error;
    } else if (reader !== null) {
      reader.resolve(DONE);
    }
    this.onEnd(this.f, this, error);
  }
}

const DONE: IteratorResult<InferenceResponse> = { value: undefined, done: true };

/** Parts a stream produces in one turn of the event loop before it lets other work (and its writes) run. */
const PARTS_PER_TURN = 256;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Ends a model's iteration early (its `finally` runs once the step it is in settles); its own failure is ignored. */
function closeIterator(iterator: AsyncIterator<InferenceResult>): void {
  if (typeof iterator.return !== 'function') return;
  try {
    iterator.return().then(undefined, ignore);
  } catch {
    // a model's return() that throws at once: the stream is over anyway
  }
}

function ignore(): void {}
