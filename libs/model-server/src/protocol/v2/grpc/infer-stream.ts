import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { CallOptions } from '../../../inference/call-options.interface';
import { grpcCallOptions, type GrpcCallOptions } from './grpc-call.util';

/** What a stream needs from the handlers: one answer per request, and a place to report its own faults. */
interface StreamAnswerer {
  streamAnswer(bytes: Buffer, options: CallOptions): Promise<Buffer>;
  streamFault(err: unknown): void;
}

/**
 * One ModelStreamInfer stream. Each request runs through the data plane as it arrives and is answered as soon
 * as it completes (order of completion; responses carry the request's id, failures an `error_message`).
 * At most `maxInFlight` requests run at once and no more is read while the client does not take the answers
 * (the socket's write buffer is full): the stream is paused and HTTP/2 flow control holds the client back.
 * When the client half-closes, the stream ends with OK once every request is answered; when it cancels (or
 * the deadline passes), the requests' signal fires and nothing more is written.
 *
 * @internal
 */
export class InferStream {
  private inFlight = 0;
  private halfClosed = false;
  private closed = false;
  private waitingForDrain = false;
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
    call.on('drain', this.onDrain);
    call.on('error', this.onError);
  }

  private readonly onRequest = (bytes: Buffer): void => {
    this.inFlight++;
    if (this.inFlight >= this.maxInFlight) this.call.pause();
    void this.answer(bytes);
  };

  private async answer(bytes: Buffer): Promise<void> {
    const out = await this.answerer.streamAnswer(bytes, this.options);
    this.inFlight--;
    if (this.closed) return;
    if (!this.call.write(out)) this.waitingForDrain = true;
    this.maybeResume();
    this.maybeFinish();
  }

  private readonly onDrain = (): void => {
    this.waitingForDrain = false;
    this.maybeResume();
  };

  private maybeResume(): void {
    if (!this.halfClosed && !this.waitingForDrain && this.inFlight < this.maxInFlight && this.call.isPaused()) this.call.resume();
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
    this.closed = true;
    this.answerer.streamFault(err);
  };
}
