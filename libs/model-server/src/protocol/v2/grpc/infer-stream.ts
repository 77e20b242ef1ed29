import { Buffer } from 'node:buffer';
import type { Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import type { CallOptions } from '../../../inference/call-options.interface';
import { grpcCallOptions, type GrpcCallOptions } from './grpc-call.util';
import type { GrpcErrorAnswer } from './grpc-status.map';
import type { CancellableCall } from './work-slicer.util';

/** What a stream needs from the handlers: one answer per request, and what to do with its own faults. */
export interface StreamAnswerer {
  /**
   * The answer's bytes (a failure is an answer too), or a streaming model's answers in parts, the last one final;
   * never rejects. `metadata`: the stream's, which carries the caller's trace context.
   */
  streamAnswer(bytes: Buffer, options: CallOptions, call: CancellableCall, metadata?: Metadata): Promise<Buffer | AsyncIterable<Buffer>>;
  /** Logs a fault of the stream itself. */
  streamFault(err: unknown): void;
  /** The status the stream ends with after such a fault. */
  streamStatus(err: unknown): GrpcErrorAnswer['error'];
}

/**
 * One ModelStreamInfer stream. Each request runs through the data plane as it arrives and is answered as soon
 * as it completes (order of completion; responses carry the request's id, failures an `error_message`). A
 * request to a streaming model is answered in parts as they come (Triton's decoupled mode), its last response
 * flagged `triton_final_response`.
 *
 * A request counts against `maxInFlight` from its arrival until its answer has been handed to the connection
 * (the write's callback), so at most `maxInFlight` requests run or wait for a client that does not read: at
 * the limit the stream is paused and HTTP/2 flow control holds the client back. When the client half-closes,
 * the stream ends with OK once every answer is written; when it cancels (or the deadline passes), the
 * requests' signal fires and nothing more is written. A fault of the stream itself (a write that throws) ends
 * it with the fault's status; nothing a client does leaves a rejection unhandled.
 *
 * @internal
 */
export class InferStream {
  private inFlight = 0;
  private halfClosed = false;
  private closed = false;
  private readonly options: GrpcCallOptions;

  constructor(
    private readonly call: ServerDuplexStream<Buffer, Buffer>,
    private readonly answerer: StreamAnswerer,
    private readonly maxInFlight: number,
  ) {
    this.options = grpcCallOptions(call);
  }

  start(): void {
    const call = this.call;
    call.on('data', this.onRequest);
    call.on('end', this.onHalfClose);
    call.on('cancelled', this.onCancelled);
    call.on('error', this.onError);
  }

  private readonly onRequest = (bytes: Buffer): void => {
    if (this.closed) return;
    this.inFlight++;
    if (this.inFlight >= this.maxInFlight) this.call.pause();
    this.answer(bytes).catch(this.onFault);
  };

  private async answer(bytes: Buffer): Promise<void> {
    const out = await this.answerer.streamAnswer(bytes, this.options, this.call, this.call.metadata);
    if (Buffer.isBuffer(out)) {
      if (!this.closed) this.call.write(out, this.onWritten);
      return;
    }
    // A streaming model's parts: each written as it comes, waiting for the connection when its buffer is full, so
    // a client that reads slowly pauses the model; a cancelled call stops the iteration (and the model's stream).
    for await (const message of out) {
      if (this.closed) break;
      if (!this.call.write(message)) await this.drained();
    }
    if (!this.closed) this.onWritten();
  }

  /** Resolves once the call can take more (or is over). */
  private drained(): Promise<void> {
    const call = this.call;
    return new Promise((resolve) => {
      const done = (): void => {
        call.off('drain', done);
        call.off('cancelled', done);
        call.off('close', done);
        resolve();
      };
      call.on('drain', done);
      call.on('cancelled', done);
      call.on('close', done);
    });
  }

  /** An answer left for the connection (or failed to): its request no longer counts. */
  private readonly onWritten = (): void => {
    this.inFlight--;
    this.maybeResume();
    this.maybeFinish();
  };

  private maybeResume(): void {
    if (!this.closed && !this.halfClosed && this.inFlight < this.maxInFlight && this.call.isPaused()) this.call.resume();
  }

  private readonly onHalfClose = (): void => {
    this.halfClosed = true;
    this.maybeFinish();
  };

  private maybeFinish(): void {
    if (this.halfClosed && this.inFlight === 0 && !this.closed) {
      this.closed = true;
      this.options.cancellation.settle();
      this.call.end();
    }
  }

  private readonly onCancelled = (): void => {
    this.closed = true;
  };

  private readonly onError = (err: unknown): void => {
    if (!this.closed) this.answerer.streamFault(err);
    this.closed = true;
  };

  /** Answering failed outside the answerer (a write that threw): logged, and the stream ends with its status. */
  private readonly onFault = (err: unknown): void => {
    const open = !this.closed;
    this.closed = true;
    this.answerer.streamFault(err);
    if (!open) return;
    try {
      // grpc-js ends the call with the status of an 'error' event's { code, details, metadata }.
      this.call.emit('error', this.answerer.streamStatus(err));
    } catch (fault) {
      this.answerer.streamFault(fault);
    }
  };
}
