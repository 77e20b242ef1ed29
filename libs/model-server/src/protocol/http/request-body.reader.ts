import { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidRequest, payloadTooLarge } from '../../errors';
import { copyInSlices } from '../../codecs/time-slice.util';
import { BINARY_TYPE, INFERENCE_HEADER } from './binary-framing';

const EMPTY = Buffer.alloc(0);

/**
 * Bodies up to this size are joined in one go when they end, and handed on at once; larger ones (unless they
 * came in one chunk) are copied into one buffer in time slices, so a 64 MiB body does not block the event loop
 * for the whole copy (one `Buffer.concat` of 64 MiB took 190–250 ms on a busy 2-core host).
 */
const JOIN_AT_ONCE_BYTES = 4 * 1024 * 1024;

/** Called once: with the body's bytes, or with the error to answer (413 over `limit`, 400 when cut short). */
export type BodyDone = (err: Error | null, body?: Buffer) => void;

/** Declared bodies of text (JSON, CSV) at least this large take turns ({@link BodyTurns}). */
export const TURN_BODY_BYTES = 1024 * 1024;

/** How long a turn may last: 100 ms, plus 1 ms per 50 KB of body (a 2.5 MB body 150 ms, 64 MiB 1.4 s). */
function turnMs(bytes: number): number {
  return 100 + bytes / 50_000;
}

/**
 * The longest a body waits for its turn: then it is read beside the others, as if there were no turns. Many
 * clients that declare large bodies and send them slowly can then delay a large request by this much, not by
 * their turns added up.
 */
const MAX_TURN_WAIT_MS = 2000;

/** A body waiting for its turn, and the timer that stops its wait. */
interface Waiting {
  payload: Readable;
  bytes: number;
  start: () => void;
  patience: NodeJS.Timeout | null;
}

/**
 * Large text bodies take turns, across the process: one is read, decoded, run and answered while the others wait
 * unread (their bytes stay in the kernel's socket buffers, and their clients are slowed by TCP). Decoding and
 * writing a large JSON tensor is main-thread work that interleaving cannot speed up, and with several such requests
 * in flight at once each holds its buffers (the body, the decoded tensor, the answer's chunks) for longer than a
 * young-generation collection lasts: V8 then ran a full collection every ~100 ms, which cost the server a third of
 * its throughput on [256,1024] FP32 echoes (docs/performance.md). A turn ends when the answer is handed to Node
 * ({@link endBodyTurn}), when the body cannot be read, or after {@link turnMs} at the latest, so a slow upload, a
 * slow model or a path that never answers delays the others by that much and no more; and no body waits longer than
 * {@link MAX_TURN_WAIT_MS} for its turn.
 *
 * @internal
 */
class BodyTurns {
  private holder: Readable | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly waiting: Waiting[] = [];
  private readonly expire = () => {
    this.timer = null;
    this.pass();
  };

  /**
   * Runs `start` now if no body holds the turn, else once the bodies before it have had theirs, or after
   * {@link MAX_TURN_WAIT_MS} without a turn.
   */
  take(payload: Readable, bytes: number, start: () => void): void {
    const next: Waiting = { payload, bytes, start, patience: null };
    if (this.holder === null) {
      this.hold(next);
      return;
    }
    next.patience = setTimeout(() => {
      this.waiting.splice(this.waiting.indexOf(next), 1);
      start();
    }, MAX_TURN_WAIT_MS);
    next.patience.unref();
    this.waiting.push(next);
  }

  /** Ends `payload`'s turn, if it holds it. */
  end(payload: unknown): void {
    if (payload === this.holder && payload !== null) this.pass();
  }

  private hold(next: Waiting): void {
    this.holder = next.payload;
    this.timer = setTimeout(this.expire, turnMs(next.bytes));
    this.timer.unref();
    next.start();
  }

  private pass(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.holder = null;
    while (this.holder === null && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      if (next.patience !== null) clearTimeout(next.patience);
      // A client that went away while it waited needs no turn: nothing will be read from it.
      if (next.payload.destroyed) next.start();
      else this.hold(next);
    }
  }
}

const turns = new BodyTurns();

/**
 * Ends the turn of a request's body (see {@link readRequestBody}'s `turn`): called by the answer writers once the
 * answer is handed to Node. Does nothing for a request that holds no turn.
 *
 * @internal
 */
export function endBodyTurn(req: unknown): void {
  turns.end(req);
}

/**
 * Whether a request's body is text that takes turns when large: not binary tensor data (the binary extension's
 * `Inference-Header-Content-Length`, `application/octet-stream`), which is viewed where it lies rather than decoded.
 *
 * @internal
 */
export function bodyTakesTurn(headers: IncomingHttpHeaders): boolean {
  return headers[INFERENCE_HEADER] === undefined && headers['content-type'] !== BINARY_TYPE;
}

/** How a body is read, from its request's headers ({@link bodyReading}). @internal */
export interface BodyReading {
  /** Whether a large body takes its turn ({@link bodyTakesTurn}). */
  turn: boolean;
  /**
   * The offset in the body at which binary tensor data starts (the binary extension's JSON length), or -1: a body
   * joined from several chunks is placed so that this offset falls on an 8-byte boundary, where the tensors' typed
   * views can be made without copying them again.
   */
  alignAt: number;
}

const PLAIN_READING: BodyReading = Object.freeze({ turn: false, alignAt: -1 });
const TEXT_READING: BodyReading = Object.freeze({ turn: true, alignAt: -1 });

/** The {@link BodyReading} a request's headers ask for. @internal */
export function bodyReading(headers: IncomingHttpHeaders): BodyReading {
  const framing = headers[INFERENCE_HEADER];
  if (framing === undefined) return bodyTakesTurn(headers) ? TEXT_READING : PLAIN_READING;
  const at = Number(framing);
  return { turn: false, alignAt: Number.isSafeInteger(at) && at >= 0 ? at : -1 };
}

/**
 * Reads a request body into one buffer: refuses a declared length over `limit` before reading, stops reading at
 * `limit` bytes, and checks the bytes against a declared Content-Length. The one body reader of every HTTP door
 * (the v2 routes and the fast lane, SageMaker). With `reading.turn`, a body declaring {@link TURN_BODY_BYTES} or
 * more is read in its turn ({@link BodyTurns}); the answer writers end the turn.
 *
 * @internal
 */
export function readRequestBody(payload: Readable, declaredLength: string | undefined, limit: number, done: BodyDone, reading = PLAIN_READING): void {
  const declared = declaredLength === undefined ? Number.NaN : Number(declaredLength);
  if (declared > limit) {
    done(payloadTooLarge(limit));
    return;
  }
  if (reading.turn && declared >= TURN_BODY_BYTES) {
    turns.take(payload, declared, () =>
      readBody(payload, declared, limit, reading.alignAt, (err, body) => {
        if (err !== null) turns.end(payload);
        done(err, body);
      }),
    );
    return;
  }
  readBody(payload, declared, limit, reading.alignAt, done);
}

/**
 * A buffer of `bytes` (contents unset) whose offset `alignAt` lies on an 8-byte boundary (when `alignAt` ≥ 0), so
 * that any typed view of the data from there on needs no copy.
 */
function bodyBuffer(bytes: number, alignAt: number): Buffer {
  if (alignAt < 0) return Buffer.allocUnsafe(bytes);
  const whole = Buffer.allocUnsafeSlow(bytes + 7);
  const pad = (8 - ((whole.byteOffset + alignAt) % 8)) % 8;
  return whole.subarray(pad, pad + bytes);
}

/** Copies `chunks` one after the other into `out` (which has room for them all) and returns it. */
function joinInto(chunks: Buffer[], out: Buffer): Buffer {
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** {@link readRequestBody} once the body may be read: `declared` is NaN when no length was declared. */
function readBody(payload: Readable, declared: number, limit: number, alignAt: number, done: BodyDone): void {
  let received = 0;
  const chunks: Buffer[] = [];
  // Once `done` is called the listeners stay but do nothing: an 'error' after the end then finds a listener (none
  // would end the process), and the usual end costs no removal (removing a stream's listeners turns its listener
  // table into a slow dictionary: about 2,000 instructions per small request, counted with callgrind).
  let settled = false;
  // A body of declared length that comes in more than one chunk is copied into its buffer as it comes: each chunk
  // is let go at once, rather than all living until the end (as young external memory that the collector would
  // otherwise find alive, promote, and free only in a full collection).
  let out: Buffer | null = null;
  const onData = (chunk: Buffer | string) => {
    if (settled) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    received += bytes.length;
    if (received > limit) {
      settled = true;
      chunks.length = 0;
      out = null;
      done(payloadTooLarge(limit));
      return;
    }
    if (out !== null) {
      if (received <= out.length) out.set(bytes, received - bytes.length);
      return;
    }
    if (chunks.length === 1 && received <= declared) {
      out = bodyBuffer(declared, alignAt);
      out.set(chunks[0], 0);
      out.set(bytes, chunks[0].length);
      chunks.length = 0;
      return;
    }
    chunks.push(bytes);
  };
  const onError = (err: Error) => {
    if (settled) return;
    settled = true;
    done(invalidRequest(`the request body could not be read: ${err.message}`));
  };
  const onEnd = () => {
    if (settled) return;
    settled = true;
    if (!Number.isNaN(declared) && received !== declared) {
      done(invalidRequest(`the request body has ${received} bytes, not the ${declared} its Content-Length says`));
      return;
    }
    if (out !== null) {
      done(null, out);
      return;
    }
    if (chunks.length <= 1) {
      done(null, chunks.length === 1 ? chunks[0] : EMPTY);
      return;
    }
    const joined = bodyBuffer(received, alignAt);
    if (received <= JOIN_AT_ONCE_BYTES) {
      done(null, joinInto(chunks, joined));
      return;
    }
    copyInSlices(chunks, joined).then(
      () => done(null, joined),
      (err: Error) => done(err),
    );
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onError);
  payload.resume();
}

/**
 * Makes an encapsulated Fastify plugin read every body as its bytes (within `limit`), whatever its type: the
 * transport decodes them itself. The same parser twice: Fastify finds an exact media type much faster than it
 * falls back to the catch-all.
 *
 * @internal
 */
export function collectBodyBytes(app: FastifyInstance, limit: number): void {
  app.removeAllContentTypeParsers();
  const bytes = (req: FastifyRequest, payload: Readable, done: BodyDone) =>
    readRequestBody(payload, req.headers['content-length'], limit, done, bodyReading(req.headers));
  app.addContentTypeParser('application/json', bytes);
  app.addContentTypeParser('*', bytes);
}
